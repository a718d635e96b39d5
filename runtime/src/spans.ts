import type { Attributes } from '@opentelemetry/api';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { OtelGrpcProfile } from '../../shared/src/index.js';
import { goDuration } from './go-format.js';

/**
 * Every decision about the shape of containerd 2.1's spans, as pure data and
 * functions (kubernetes-traces.md §6.1). Handlers only apply what these return.
 */

/** containerd 2.1 links otelgrpc v0.60.0 and wires it as a stats handler without options: no message events. */
export const CONTAINERD_OTELGRPC: OtelGrpcProfile = {
  version: '0.60.0',
  keys: 'v0.42',
  messageEvents: 'none',
  serverErrors: 'server-fault',
};

/** The Go SDK release containerd 2.1 builds with: telemetry.sdk.version of its default resource. */
export const GO_OTEL_SDK_VERSION = '1.35.0';

/**
 * The Go SDK's default resource. containerd sets OTEL_SERVICE_NAME to
 * "containerd" when it is unset, so service.name is that variable or
 * "containerd"; the telemetry.sdk.* detector runs last and cannot be
 * overridden. OTEL_RESOURCE_ATTRIBUTES adds keys underneath (startTracing).
 */
export function containerdResource(env: NodeJS.ProcessEnv): Attributes {
  const serviceName = env['OTEL_SERVICE_NAME']?.trim();
  return {
    'service.name': serviceName ? serviceName : 'containerd',
    'telemetry.sdk.language': 'go',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': GO_OTEL_SDK_VERSION,
  };
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
  snapshotterName: 'snapshotter.name',
} as const;

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
