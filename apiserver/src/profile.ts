import type { OtelGrpcProfile, OtelHttpProfile } from '../../shared/src/index.js';

/**
 * Every tracing decision that differs between kube-apiserver releases, as
 * data (kubernetes-traces.md §1.1, §2). Only 1.35 exists for now; issue 4
 * adds 1.27 and others as further constants of this type, and the code that
 * emits spans reads nothing version-specific from anywhere else.
 */
export interface ApiserverProfile {
  readonly name: string;
  /** otelhttp v0.61.0: stable HTTP semconv on the SERVER span and the webhook CLIENT span. */
  readonly otelhttp: OtelHttpProfile;
  /** The etcd client's otelgrpc: v0.60.0 stats handler WithMessageEvents (1.34+). */
  readonly etcdGrpc: OtelGrpcProfile;
  /**
   * 1.34+ (PR #128767): each filter has its own span, nested in chain order
   * inside the SERVER span and around the handler span.
   */
  readonly filterSpans: readonly string[];
  /** 1.33+: the tracing filter sits inside authentication, whose span is a root of its own. */
  readonly authenticationRoot: boolean;
  /** 1.33+ (PR #127053): system:masters / system:monitoring callers keep their trace context. */
  readonly privilegedGroups: readonly string[];
  /** 1.26+: an untrusted caller's valid traceparent becomes a span link on a new root. */
  readonly linkUntrustedCallers: boolean;
  /** 1.31+: `POST /api/v1/namespaces/{:namespace}/pods`; before, always `KubernetesAPI`. */
  readonly routeSpanNames: boolean;
  /** 1.33+: the SERVER span starts at the request-received timestamp. */
  readonly serverStartsAtReceived: boolean;
  /** 1.34+: Create etcd3 & co. carry `group` and `resource` rather than one GroupResource string. */
  readonly splitGroupResource: boolean;
  /** 1.33+ names of the watch-cache spans. */
  readonly cacherGetListSpan: string;
  readonly cacherGetSpan: string;
  /** The webhook rest client speaks HTTP/1.1 (network.protocol.version). */
  readonly webhookProtocolVersion: string;
}

export const PROFILE_1_35: ApiserverProfile = {
  name: '1.35',
  otelhttp: { version: '0.61.0', keys: 'v0.61' },
  etcdGrpc: { version: '0.60.0', keys: 'v0.42', messageEvents: 'stats', serverErrors: 'server-fault' },
  filterSpans: ['audit', 'impersonation', 'priorityandfairness', 'authorization'],
  authenticationRoot: true,
  privilegedGroups: ['system:masters', 'system:monitoring'],
  linkUntrustedCallers: true,
  routeSpanNames: true,
  serverStartsAtReceived: true,
  splitGroupResource: true,
  cacherGetListSpan: 'cacher.GetList',
  cacherGetSpan: 'cacher.Get',
  webhookProtocolVersion: '1.1',
};

/**
 * What /version reports. It says 1.32 although the spans are 1.35's: the
 * kubectl on the machines we target is the Cloud SDK dispatcher, which runs
 * `kubectl.1.<minor>` and is known to work against us with 1.32
 * (protocols.md §4). Issue 4 ties this to the profile; it lives only here.
 */
export const VERSION_INFO = {
  major: '1',
  minor: '32',
  emulationMajor: '1',
  emulationMinor: '32',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '31',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac5fea8e49',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;
