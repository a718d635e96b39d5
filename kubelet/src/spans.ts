import { SpanKind, SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api';
import type { OtelGrpcProfile, OtelHttpProfile } from '../../shared/src/index.js';

/**
 * Every decision about the shape of the kubelet's spans and the calls under
 * them, as data keyed by a version profile (kubernetes-traces.md §5, §1.1).
 * The code that starts spans reads nothing version-specific from anywhere
 * else; issue 4 adds older profiles as further constants of this type.
 */
export interface KubeletProfile {
  readonly name: string;
  readonly kubeletVersion: string;
  /** kubelet→CRI: otelgrpc v0.60.0 stats handler WithMessageEvents (cri-client 0.35, 1.34+). */
  readonly criGrpc: OtelGrpcProfile;
  /** The otelhttp Transport around the kubelet's client config (1.35 links v0.61.0). */
  readonly apiHttp: OtelHttpProfile;
  /** 1.31+ (PR #125017): a failed sync records an `exception` event and sets status Error. */
  readonly syncErrorStatus: boolean;
  /**
   * Since the imagePullPrecheck refactor (pkg/kubelet/images/image_manager.go)
   * a PullAlways container pulls without asking ImageStatus first;
   * IfNotPresent and Never still ask.
   */
  readonly imageStatusBeforeAlwaysPull: boolean;
  /**
   * The puller reads the pulled image's size for the Pulled event
   * (GetImageSize → ImageStatus), and the event says `Image size: N bytes.`
   */
  readonly imageStatusAfterPull: boolean;
  /** client-go's User-Agent: `kubelet/<gitVersion> (linux/amd64) kubernetes/<commit>`. */
  readonly userAgent: string;
  /** The KubeletTracing feature gate as this release declares it (pkg/features/kube_features.go). */
  readonly tracingGate: FeatureGateSpec;
  /**
   * How server.go wraps a config-file load error: 1.27 `…, error: %w, path: %s`,
   * 1.28+ (the drop-in directory rework) `…, path: %s, error: %w`.
   */
  readonly configLoadErrorPathFirst: boolean;
}

/** featuregate.FeatureSpec: default, lock and stage. */
export interface FeatureGateSpec {
  readonly default: boolean;
  readonly lockToDefault: boolean;
  readonly preRelease: 'ALPHA' | 'BETA' | 'GA';
}

export const PROFILE_1_35: KubeletProfile = {
  name: '1.35',
  kubeletVersion: 'v1.35.0',
  criGrpc: { version: '0.60.0', keys: 'v0.42', messageEvents: 'stats', serverErrors: 'server-fault' },
  apiHttp: { version: '0.61.0', keys: 'v0.61' },
  syncErrorStatus: true,
  imageStatusBeforeAlwaysPull: false,
  imageStatusAfterPull: true,
  userAgent: 'kubelet/v1.35.0 (linux/amd64) kubernetes/66452049f3d',
  tracingGate: { default: true, lockToDefault: true, preRelease: 'GA' },
  configLoadErrorPathFirst: true,
};

/**
 * Kubernetes 1.27 as k3s v1.27.1+k3s1 ships it (the k3d tutorial). go.mod at
 * v1.27: otelgrpc v0.35.0 and otelhttp v0.35.1, whose tracers are created
 * with WithInstrumentationVersion(SemVersion()), so the scope version reads
 * `semver:0.35.0`. The CRI client uses the unary interceptor (message events
 * always on, type/id/uncompressed size; the peer comes from the dial target,
 * a socket path, so none). syncPod has its CRI children (PR #114504); a
 * failed sync leaves no trace on the span (RecordError came in 1.31); the
 * image manager asks ImageStatus (GetImageRef) before every pull decision
 * and the Pulled event carries no size.
 */
export const PROFILE_1_27: KubeletProfile = {
  name: '1.27',
  kubeletVersion: 'v1.27.1+k3s1',
  criGrpc: { version: 'semver:0.35.0', keys: 'v0.20', messageEvents: 'full', serverErrors: 'any' },
  apiHttp: { version: 'semver:0.35.1', keys: 'v0.35' },
  syncErrorStatus: false,
  imageStatusBeforeAlwaysPull: true,
  imageStatusAfterPull: false,
  userAgent: 'kubelet/v1.27.1+k3s1 (linux/amd64) kubernetes/bc5b42c',
  tracingGate: { default: true, lockToDefault: false, preRelease: 'BETA' },
  configLoadErrorPathFirst: false,
};

export const KUBELET_PROFILES: Readonly<Record<string, KubeletProfile>> = { '1.27': PROFILE_1_27, '1.35': PROFILE_1_35 };

/** The prober's User-Agent, `kube-probe/<major>.<minor>` of the kubelet's version. */
export function probeUserAgent(p: KubeletProfile): string {
  const m = /^v(\d+)\.(\d+)/.exec(p.kubeletVersion);
  return m ? `kube-probe/${m[1]}.${m[2]}` : 'kube-probe/';
}

/** The tracer name the kubelet's spans use (kl.tracer = tp.Tracer(instrumentationScope)), with no version. */
export const KUBELET_SCOPE = 'k8s.io/kubernetes/pkg/kubelet';

/** kubetypes.SyncPodType.String(). */
export type UpdateType = 'create' | 'update' | 'sync' | 'kill';

/** newTracerProvider: exactly these two attributes; the Go SDK adds nothing without detectors. */
export function kubeletResource(nodeName: string): Attributes {
  return { 'service.name': 'kubelet', 'host.name': nodeName };
}

export interface PodRef {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
}

export interface SpanShape {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/** `syncPod`: INTERNAL, all-string attributes in the order SyncPod sets them. */
export function syncPodSpan(_p: KubeletProfile, pod: PodRef, updateType: UpdateType): SpanShape {
  return {
    name: 'syncPod',
    kind: SpanKind.INTERNAL,
    attributes: {
      'k8s.pod.uid': pod.uid,
      'k8s.pod': `${pod.namespace}/${pod.name}`,
      'k8s.pod.name': pod.name,
      'k8s.pod.update_type': updateType,
      'k8s.namespace.name': pod.namespace,
    },
  };
}

/** `syncTerminatingPod` / `syncTerminatedPod`: the same attributes without an update type. */
export function terminationSpan(_p: KubeletProfile, which: 'syncTerminatingPod' | 'syncTerminatedPod', pod: PodRef): SpanShape {
  return {
    name: which,
    kind: SpanKind.INTERNAL,
    attributes: {
      'k8s.pod.uid': pod.uid,
      'k8s.pod': `${pod.namespace}/${pod.name}`,
      'k8s.pod.name': pod.name,
      'k8s.namespace.name': pod.namespace,
    },
  };
}

/** A Go error as span.RecordError reports it: its dynamic type and its text. */
export interface GoError {
  readonly type: string;
  readonly message: string;
}

/**
 * What a failed sync leaves on its span: from 1.31 RecordError's `exception`
 * event and status Error with the error text; before, nothing at all.
 */
export function syncErrorOutcome(p: KubeletProfile, err: GoError): { events: Array<{ name: string; attributes: Attributes }>; status: SpanStatus } {
  if (!p.syncErrorStatus) return { events: [], status: { code: SpanStatusCode.UNSET } };
  return {
    events: [{ name: 'exception', attributes: { 'exception.type': err.type, 'exception.message': err.message } }],
    status: { code: SpanStatusCode.ERROR, message: err.message },
  };
}

export type TraceMode = 'story' | 'faithful';

/** The annotation the apiserver adds to each created pod in story mode. */
export const TRACEPARENT_ANNOTATION = 'trace.k8s-trace-sim.io/traceparent';

/**
 * Where a syncPod hangs. In every release the pod worker starts it from
 * context.Background(): a root. Story mode's documented simplification puts
 * the create sync under the pod's traceparent annotation; every later sync,
 * and every faithful-mode sync, stays a root.
 */
export function syncPodParent(mode: TraceMode, updateType: UpdateType, annotations: Readonly<Record<string, string>> | undefined): string | undefined {
  if (mode !== 'story' || updateType !== 'create') return undefined;
  const v = annotations?.[TRACEPARENT_ANNOTATION]?.trim();
  return v && /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(v) ? v : undefined;
}
