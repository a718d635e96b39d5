import type { OtelGrpcProfile, OtelHttpProfile } from '../../shared/src/index.js';

/**
 * Every tracing decision that differs between kube-apiserver releases, as
 * data (kubernetes-traces.md §1.1, §2, §7, §8). The code that emits spans
 * reads nothing version-specific from anywhere else. Values were read from
 * kubernetes/apiserver at v0.27.1 (identical in these respects to v0.27.16)
 * and v0.35.0.
 */
export interface ApiserverProfile {
  readonly name: KubeVersion;
  /** 1.27: otelhttp v0.35.1 (semconv v1.12); 1.35: v0.61.0 (stable HTTP semconv). `version` is the scope version. */
  readonly otelhttp: OtelHttpProfile;
  /** The etcd client's otelgrpc: 1.27 v0.35.0 interceptors (always-on message events); 1.34+ the v0.60.0 stats handler WithMessageEvents. */
  readonly etcdGrpc: OtelGrpcProfile;
  /**
   * Whether etcd client spans carry peer attributes. Interceptors (≤1.33)
   * parse the dial target `etcd-endpoints://0x…/127.0.0.1:2379`, which is no
   * host:port, so they carry none; the stats handler (1.34+) reports the peer.
   */
  readonly etcdClientPeer: boolean;
  /**
   * Where `authentication` sits. `root` (1.33+): the tracing filter runs inside
   * authentication, so its span starts first, with no parent, and wraps the
   * request. `child-of-server` (1.26–1.32): the only filter span, a child of the
   * SERVER span that ends right after authentication yet stays the current span,
   * so the handler spans hang under it and outlive it (filterlatency.go).
   */
  readonly authentication: 'root' | 'child-of-server';
  /** 1.34+ (PR #128767): the later filters have spans of their own, nested in chain order around the handler. */
  readonly filterSpans: readonly string[];
  /** 1.33+ (PR #127053): callers in these groups keep their trace context. */
  readonly privilegedGroups: readonly string[];
  /**
   * Story mode's groups whose trace context is honoured. 1.33+ needs no
   * simplification (the real rule); under 1.27 honouring them is story mode's
   * documented caller→apiserver simplification (faithful mode never does).
   */
  readonly storyPrivilegedGroups: readonly string[];
  /** 1.26+ (otelhttp v0.35+ public endpoint): a caller's valid traceparent becomes a span link on a new root. */
  readonly linkUntrustedCallers: boolean;
  /** 1.31+: `POST /api/v1/namespaces/{:namespace}/pods`; before, always `KubernetesAPI`. */
  readonly routeSpanNames: boolean;
  /** 1.33+: the SERVER span starts at the request-received timestamp. */
  readonly serverStartsAtReceived: boolean;
  /** 1.29+: filters/traces.go overwrites otelhttp's `http.target` with path and query. */
  readonly serverHttpTarget: boolean;
  /** 1.34+: the SERVER span carries `audit-id`. */
  readonly serverAuditId: boolean;
  /** 1.29+: traceFields adds api-group, api-version, name, subresource and namespace. */
  readonly traceFieldsRequestInfo: boolean;
  /** 1.32+ (PR #127551): SerializeObject is a child of the handler span; before, a sibling under the same parent. */
  readonly serializeUnderHandler: boolean;
  /**
   * SerializeObject's event attributes. 1.27: `About to start writing response`
   * {size}, `Write call succeeded` {writer, size, firstWrite}; 1.35: {writer, size}
   * then {size}.
   */
  readonly serializeEvents: 'v1.27' | 'v1.35';
  /** 1.34+: Create etcd3 & co. carry `group` and `resource` rather than one GroupResource string. */
  readonly splitGroupResource: boolean;
  /** `cacher list` (1.26–1.32), `cacher.GetList` (1.33+). */
  readonly cacherGetListSpan: string;
  /** When the cacher list span says `Resized result`: 1.27 when the cache listed anything and no selector can drop items; 1.35 when anything was selected. */
  readonly cacherListResized: 'listed-unfiltered' | 'selected';
  /** 1.33+ `cacher.Get`; undefined before, when a cached Get has no span and its watch-cache events land on the handler span. */
  readonly cacherGetSpan: string | undefined;
  /**
   * 1.31+ (ConsistentListFromCache): a list with resourceVersion "" or a limit
   * is served by the watch cache. Before, both go to etcd (shouldDelegateList).
   */
  readonly consistentListFromCache: boolean;
  /** The webhook rest client speaks HTTP/1.1. */
  readonly webhookProtocolVersion: string;
  /** Aggregated discovery versions served, most preferred first (v2beta1 is beta in 1.27, v2 from 1.30). */
  readonly aggregatedDiscovery: readonly ('v2' | 'v2beta1')[];
  /** TracingConfiguration apiVersions this release decodes (apiserver.config.k8s.io). */
  readonly tracingApiVersions: readonly string[];
  /**
   * runtime.Scheme's name in decode errors. Official 1.27 builds record the
   * versioned apimachinery path, so the name is scheme.go's own line; later
   * builds name the caller, options/tracing.go. (kubectl 1.27 and 1.32 show the
   * same split for their kubeconfig scheme.)
   */
  readonly tracingSchemeName: string;
  /** The APIServerTracing gate: beta and on in 1.27, GA and locked on from 1.34. */
  readonly tracingGate: FeatureSpec;
  /**
   * 1.31+: --feature-gates is applied by the component globals registry after
   * parsing, so its errors are not wrapped as pflag's `invalid argument`.
   */
  readonly featureGatesViaRegistry: boolean;
  /** What /version reports. */
  readonly versionInfo: Readonly<Record<string, string>>;
}

export type KubeVersion = '1.27' | '1.35';
export const KUBE_VERSIONS: readonly KubeVersion[] = ['1.27', '1.35'];

export interface FeatureSpec {
  readonly default: boolean;
  readonly preRelease: 'Alpha' | 'Beta' | 'GA';
  readonly lockToDefault: boolean;
}

const OTELGRPC_INTERCEPTOR_V035: OtelGrpcProfile = { version: 'semver:0.35.0', keys: 'v0.20', messageEvents: 'full', serverErrors: 'any' };

/**
 * k3s v1.27.1's apiserver (the k3d tutorial). otelhttp and otelgrpc v0.35
 * name their tracers with SemVersion(), so the scope versions read
 * `semver:0.35.1` and `semver:0.35.0`.
 */
export const PROFILE_1_27: ApiserverProfile = {
  name: '1.27',
  otelhttp: { version: 'semver:0.35.1', keys: 'v0.35' },
  etcdGrpc: OTELGRPC_INTERCEPTOR_V035,
  etcdClientPeer: false,
  authentication: 'child-of-server',
  filterSpans: [],
  privilegedGroups: [],
  storyPrivilegedGroups: ['system:masters', 'system:monitoring'],
  linkUntrustedCallers: true,
  routeSpanNames: false,
  serverStartsAtReceived: false,
  serverHttpTarget: false,
  serverAuditId: false,
  traceFieldsRequestInfo: false,
  serializeUnderHandler: false,
  serializeEvents: 'v1.27',
  splitGroupResource: false,
  cacherGetListSpan: 'cacher list',
  cacherListResized: 'listed-unfiltered',
  cacherGetSpan: undefined,
  consistentListFromCache: false,
  webhookProtocolVersion: '1.1',
  aggregatedDiscovery: ['v2beta1'],
  tracingApiVersions: ['apiserver.config.k8s.io/v1alpha1', 'apiserver.config.k8s.io/v1beta1'],
  tracingSchemeName: 'pkg/runtime/scheme.go:100',
  tracingGate: { default: true, preRelease: 'Beta', lockToDefault: false },
  featureGatesViaRegistry: false,
  // The last 1.27 patch release (its spans are 1.27.1's: same libraries, same
  // tracing code); the build the dispatcher's kubectl 1.27.16 reports.
  versionInfo: {
    major: '1',
    minor: '27',
    gitVersion: 'v1.27.16',
    gitCommit: 'cbb86e0d7f4a049666fac0551e8b02ef3d6c3d9a',
    gitTreeState: 'clean',
    buildDate: '2024-07-17T01:53:56Z',
    goVersion: 'go1.22.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  },
};

export const PROFILE_1_35: ApiserverProfile = {
  name: '1.35',
  otelhttp: { version: '0.61.0', keys: 'v0.61' },
  etcdGrpc: { version: '0.60.0', keys: 'v0.42', messageEvents: 'stats', serverErrors: 'server-fault' },
  etcdClientPeer: true,
  authentication: 'root',
  filterSpans: ['audit', 'impersonation', 'priorityandfairness', 'authorization'],
  privilegedGroups: ['system:masters', 'system:monitoring'],
  storyPrivilegedGroups: ['system:masters', 'system:monitoring'],
  linkUntrustedCallers: true,
  routeSpanNames: true,
  serverStartsAtReceived: true,
  serverHttpTarget: true,
  serverAuditId: true,
  traceFieldsRequestInfo: true,
  serializeUnderHandler: true,
  serializeEvents: 'v1.35',
  splitGroupResource: true,
  cacherGetListSpan: 'cacher.GetList',
  cacherListResized: 'selected',
  cacherGetSpan: 'cacher.Get',
  consistentListFromCache: true,
  webhookProtocolVersion: '1.1',
  aggregatedDiscovery: ['v2', 'v2beta1'],
  tracingApiVersions: ['apiserver.config.k8s.io/v1', 'apiserver.config.k8s.io/v1beta1', 'apiserver.config.k8s.io/v1alpha1'],
  tracingSchemeName: 'pkg/server/options/tracing.go:49',
  tracingGate: { default: true, preRelease: 'GA', lockToDefault: true },
  featureGatesViaRegistry: true,
  // A real v1.35.0 answer. No kubectl.1.35 exists beside the dispatcher, so it
  // runs its built-in 1.32.4, which is known to work against us (protocols.md §4).
  versionInfo: {
    major: '1',
    minor: '35',
    emulationMajor: '1',
    emulationMinor: '35',
    minCompatibilityMajor: '1',
    minCompatibilityMinor: '34',
    gitVersion: 'v1.35.0',
    gitCommit: '66452049f3d692768c39c797b21b793dce80314e',
    gitTreeState: 'clean',
    buildDate: '2025-12-17T12:32:07Z',
    goVersion: 'go1.25.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  },
};

export const PROFILES: Readonly<Record<KubeVersion, ApiserverProfile>> = { '1.27': PROFILE_1_27, '1.35': PROFILE_1_35 };
