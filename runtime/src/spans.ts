import { SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { OtelGrpcProfile } from '../../shared/src/index.js';
import { goDuration } from './go-format.js';

/**
 * Every decision about the shape of containerd's spans, as pure data and
 * functions keyed by the containerd release (kubernetes-traces.md §6.1,
 * checked against the source at each tag). Handlers only apply what these return.
 */

export const CONTAINERD_VERSIONS = ['1.7.1', '2.1.4'] as const;
export type ContainerdVersion = (typeof CONTAINERD_VERSIONS)[number];

export interface ContainerdProfile {
  readonly version: ContainerdVersion;
  /** RuntimeVersion of the Version RPC and `version` of the start line. */
  readonly runtimeVersion: string;
  /** The tag's commit, logged as `revision` on start. */
  readonly revision: string;
  /** The otelgrpc release and wiring of the gRPC server that serves CRI. */
  readonly otelgrpc: OtelGrpcProfile;
  /**
   * Where tracing is configured: 1.7 reads the `otlp` and `tracing` plugin
   * sections of config.toml (tracing/plugin/otlp.go); 2.x only OTEL_* variables.
   */
  readonly tracingConfig: 'toml' | 'env';
  /**
   * 1.7's instrumentedService wraps these methods in an INTERNAL span
   * `pkg.cri.server.<Method>` (tracing.StartSpan): the log lines and the CRI
   * code's own span calls land on it, and it ends with status Ok or Error.
   */
  readonly internalSpanMethods: ReadonlySet<string>;
  /**
   * 2.x (PR #7616) puts sandbox and container attributes and events on the
   * server span and RecordErrors there; 1.7's sandbox and container code has
   * no tracing calls at all.
   */
  readonly serverSpanAnnotations: boolean;
  /** 1.7's ImageStatus sets image.id, or adds the lookup error as an event; 2.x's does neither. */
  readonly imageStatusAnnotations: boolean;
  /** "Forcibly stopping sandbox": 2.x logs it through the request context (a span event), 1.7 through logrus' global logger (none). */
  readonly forciblyStoppingSandboxEvent: boolean;
}

export const CONTAINERD_PROFILES: Readonly<Record<ContainerdVersion, ContainerdProfile>> = {
  /**
   * v1.7.1's go.mod pins otelgrpc v0.40.0, wired as interceptors
   * (services/server/server.go): semconv v1.17 peer keys, message events with
   * type and id only (no size), and Error status for any error code.
   */
  '1.7.1': {
    version: '1.7.1',
    runtimeVersion: 'v1.7.1',
    revision: '1677a17964311325ed1c31e2c0a3589ce6d5c30d',
    // Contrib releases before v0.42 name their tracer's version SemVersion(): "semver:" + Version().
    otelgrpc: { version: 'semver:0.40.0', keys: 'v0.42', messageEvents: 'type-id', serverErrors: 'any' },
    tracingConfig: 'toml',
    internalSpanMethods: new Set(['PullImage', 'ListImages', 'ImageStatus', 'RemoveImage', 'ImageFsInfo']),
    serverSpanAnnotations: false,
    imageStatusAnnotations: true,
    forciblyStoppingSandboxEvent: false,
  },
  /** 2.1 links otelgrpc v0.60.0 as a stats handler without options: no message events. */
  '2.1.4': {
    version: '2.1.4',
    runtimeVersion: 'v2.1.4',
    revision: '75cb2b7193e4e490e9fbdc236c0e811ccaba3376',
    otelgrpc: { version: '0.60.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' },
    tracingConfig: 'env',
    internalSpanMethods: new Set(),
    serverSpanAnnotations: true,
    imageStatusAnnotations: false,
    forciblyStoppingSandboxEvent: true,
  },
};

export const DEFAULT_CONTAINERD_VERSION: ContainerdVersion = '2.1.4';

export function isContainerdVersion(v: string): v is ContainerdVersion {
  return (CONTAINERD_VERSIONS as readonly string[]).includes(v);
}

/** The otelgrpc profile of the default release, for code that predates version profiles. */
export const CONTAINERD_OTELGRPC: OtelGrpcProfile = CONTAINERD_PROFILES[DEFAULT_CONTAINERD_VERSION].otelgrpc;

/** The Go SDK release containerd 2.1 builds with: telemetry.sdk.version of its default resource. */
export const GO_OTEL_SDK_VERSION = '1.35.0';

/**
 * containerd's resource.
 *
 * 2.x: the Go SDK's default resource. containerd sets OTEL_SERVICE_NAME to
 * "containerd" when it is unset, so service.name is that variable or
 * "containerd"; the telemetry.sdk.* detector runs last and cannot be
 * overridden. OTEL_RESOURCE_ATTRIBUTES adds keys underneath (startTracing).
 *
 * 1.7.1: resource.New(WithHost(), WithAttributes(service.name)) in
 * newTracer: only host.name and the configured service_name, no telemetry.sdk.*
 * (the SDK default resource only came with 1.7.19's move to OTEL_* variables).
 */
export function containerdResource(
  profile: ContainerdProfile,
  opts: { env: NodeJS.ProcessEnv; serviceName?: string; hostName: string },
): Attributes {
  if (profile.tracingConfig === 'toml') {
    return { 'host.name': opts.hostName, 'service.name': opts.serviceName ?? 'containerd' };
  }
  const serviceName = opts.env['OTEL_SERVICE_NAME']?.trim();
  return {
    'service.name': serviceName ? serviceName : 'containerd',
    'telemetry.sdk.language': 'go',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': GO_OTEL_SDK_VERSION,
  };
}

/** The prefix 1.7's instrumentedService gives its own spans (criSpanPrefix). */
const CRI_SPAN_PREFIX = 'pkg.cri.server';

/** `pkg.cri.server.PullImage`: tracing.Name joins with dots. */
export function internalSpanName(method: string): string {
  return `${CRI_SPAN_PREFIX}.${method}`;
}

/**
 * What tracing.Span.SetStatus(err) does to 1.7's internal span: Ok on
 * success; on failure RecordError (an `exception` event) and Error with the
 * error text. The error is the one the method returns, already through
 * errdefs.ToGRPC (see recordedError).
 */
export function internalSpanEnd(err: { type: string; message: string } | undefined): {
  status: SpanStatus;
  events: { name: string; attributes: Attributes }[];
} {
  if (!err) return { status: { code: SpanStatusCode.OK }, events: [] };
  return { status: { code: SpanStatusCode.ERROR, message: err.message }, events: [exceptionEvent(err)] };
}

/** The CRI attribute keys containerd puts on server spans (tracing.Attribute). */
export const ATTR = {
  sandboxId: 'sandbox.id',
  sandboxName: 'sandbox.name',
  sandboxPid: 'sandbox.pid',
  containerId: 'container.id',
  containerName: 'container.name',
  containerImageRef: 'container.image.ref',
  imageRef: 'image.ref',
  /** 1.7 only: ImageStatus (and RemoveImage) on the internal span. */
  imageId: 'image.id',
  snapshotterName: 'snapshotter.name',
} as const;

/** 1.7's ImageStatus adds the lookup error as an event: errdefs.ErrNotFound's text. */
export const IMAGE_NOT_FOUND_EVENT = 'not found';

/**
 * containerd's tracing.Attribute(k, v): Go ints become ints, strings stay, and
 * anything else goes through json.Marshal. sandbox.pid is a uint32, which the
 * type switch does not list, so it arrives as the string "1234".
 */
export function sandboxPidAttribute(pid: number): string {
  return String(pid);
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';
const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4 };

/** logrus fires hooks, and so adds span events, only for entries at or above the daemon's level. */
export function levelEnabled(entry: LogLevel, configured: LogLevel): boolean {
  return LEVEL_RANK[entry] >= LEVEL_RANK[configured];
}

export function parseLogLevel(s: string): LogLevel | undefined {
  const l = s.toLowerCase();
  if (l === 'warn') return 'warning';
  return l in LEVEL_RANK ? (l as LogLevel) : undefined;
}

export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Readonly<Record<string, string>>;
  /** The error text of WithError(err). */
  readonly error?: string;
}

/**
 * The value containerd's tracing.keyValue gives a logrus field holding a Go
 * error: it has no String method and only unexported fields, so it goes
 * through json.Marshal and comes out as the literal "{}".
 */
export const GO_ERROR_FIELD = '{}';

/**
 * tracing.LogrusHook: the event is named after the log message; the logrus
 * fields come first, then `level`.
 */
export function logEvent(entry: LogEntry): { name: string; attributes: Attributes } {
  const error = entry.error === undefined ? {} : { error: GO_ERROR_FIELD };
  return { name: entry.message, attributes: { ...entry.fields, ...error, level: entry.level } };
}

// codes.Code.String(), used in status.Error texts.
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  [GrpcStatus.OK]: 'OK',
  [GrpcStatus.CANCELLED]: 'Canceled',
  [GrpcStatus.UNKNOWN]: 'Unknown',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.ABORTED]: 'Aborted',
  [GrpcStatus.OUT_OF_RANGE]: 'OutOfRange',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.INTERNAL]: 'Internal',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DATA_LOSS]: 'DataLoss',
  [GrpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
};

/**
 * The error the instrumented service records. Its deferred RecordError sees
 * the value already passed through errgrpc.ToGRPC: a classified error is now
 * a *status.Error whose text carries the code; an unclassified one is still
 * the original Go error with its own type and text.
 */
export function recordedError(code: number, message: string, goType: string): { type: string; message: string } {
  if (code === GrpcStatus.UNKNOWN) return { type: goType, message };
  return { type: '*status.Error', message: `rpc error: code = ${GO_CODE_NAMES[code] ?? `Code(${code})`} desc = ${message}` };
}

/** span.RecordError: an `exception` event with the Go type and error text, no stack trace. */
export function exceptionEvent(err: { type: string; message: string }): { name: string; attributes: Attributes } {
  return { name: 'exception', attributes: { 'exception.type': err.type, 'exception.message': err.message } };
}

/** Events the CRI plugin adds itself (span.AddEvent), with their duration attributes as Go prints them. */
export const CRI_EVENTS = {
  setupPodNetwork: () => ({ name: 'setup pod network', attributes: {} }),
  containerCreated: (ns: bigint) => ({ name: 'container created', attributes: { 'container.create.duration': goDuration(ns) } }),
  containerStarted: (ns: bigint) => ({ name: 'container started', attributes: { 'container.start.duration': goDuration(ns) } }),
  containerStopped: (id: string, ns: bigint) => ({
    name: 'container stopped',
    attributes: { 'container.id': id, 'container.stop.duration': goDuration(ns) },
  }),
  containerRemoved: (id: string, ns: bigint) => ({
    name: 'container removed',
    attributes: { 'container.id': id, 'container.remove.duration': goDuration(ns) },
  }),
  stoppingContainers: () => ({ name: 'stopping containers in the sandbox', attributes: {} }),
  sandboxStopped: (ns: bigint) => ({ name: 'sandbox container stopped', attributes: { 'sandbox.stop.duration': goDuration(ns) } }),
  networkTeardownStart: () => ({ name: 'start pod network teardown', attributes: {} }),
  networkTeardownDone: (ns: bigint) => ({
    name: 'finished pod network teardown',
    attributes: { 'network.teardown.duration': goDuration(ns) },
  }),
  sandboxRemoved: (ns: bigint) => ({ name: 'pod sandbox removed', attributes: { 'sandbox.remove.duration': goDuration(ns) } }),
  pullComplete: () => ({ name: 'Pull and unpack image complete', attributes: {} }),
} as const;
