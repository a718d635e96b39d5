export { loadProto, lookupService, PROTO_DIR, ETCD_PROTO_DIR, PROTO_LOADER_OPTIONS } from './proto.js';
export { startTracing, perMillionSampler, parentBasedAlwaysOn, GoTraceIdRatioSampler, seededIdGenerator, SEED_ENV } from './tracing.js';
export type { Tracing, TracingOptions } from './tracing.js';
export { parseResourceAttributes, resourceAttributesFromEnv, otlpGrpcUrl, resolveOtlpEndpoint } from './resource-env.js';
export { extractFromMetadata, injectIntoMetadata, extractFromHeaders, injectIntoHeaders } from './propagation.js';
export {
  OTELGRPC_SCOPE,
  grpcSpanName,
  parseFullMethod,
  parsePeer,
  peerAttributes,
  grpcSpanStart,
  grpcCodeName,
  grpcStatusAttributes,
  grpcSpanStatus,
  grpcMessageEvent,
} from './otelgrpc.js';
export type { OtelGrpcProfile, Peer } from './otelgrpc.js';
export { GrpcError, toGrpcStatus, grpcErrorOf } from './grpc-errors.js';
export { tracedUnary, tracedBidi } from './grpc-server.js';
export type { GrpcServerTracing, ServerCallContext, StreamSession } from './grpc-server.js';
export { parseFlags, parseDuration, formatGoDuration, formatUsage, FlagError } from './flags.js';
export type { FlagSpec, FlagSpecs, FlagType, ParsedFlags } from './flags.js';
export { onShutdown, SUPERVISOR_PID_ENV } from './lifecycle.js';
export type { CommandMain } from './lifecycle.js';
export { startOtlpReceiver, invalidSpanReason } from './otlp-receiver.js';
export type { OtlpReceiver, OtlpReceiverOptions, ReceivedSpan, ReceivedOperation, ReceiverStats } from './otlp-receiver.js';
export { startQueryServer } from './query-server.js';
export type { QueryServer, QueryServerOptions } from './query-server.js';
export { tracesDataToJson, attributesToJs, anyValueToJs } from './otlp-json.js';
export type { AttrValue } from './otlp-json.js';
// pki.ts (createCA, issueCert) is imported by path: its X.509 libraries cost
// every process ~20 MB, and only `up` and tests mint certificates.
export { identityFromSubject } from './k8s/identity.js';
export type {
  ObjectMeta,
  KubeObject,
  ListMeta,
  KubeList,
  Container,
  PodCondition,
  ContainerState,
  ContainerStatus,
  PodStatus,
  Pod,
  NodeCondition,
  Node,
  WatchEvent,
  StatusCause,
  StatusDetails,
  Status,
} from './k8s/types.js';
export { StatusError, statusErrors, codeForReason, groupResource, statusFromResponse, isNotFound, isConflict, isAlreadyExists } from './k8s/errors.js';
export type { StatusReason } from './k8s/errors.js';
export {
  OTELHTTP_SCOPE,
  httpServerStartAttributes,
  httpServerEndAttributes,
  httpServerStatus,
  httpClientSpanName,
  httpClientStartAttributes,
  httpClientEndAttributes,
  httpClientStatus,
} from './otelhttp.js';
export type { OtelHttpProfile, HttpServerRequestInfo } from './otelhttp.js';
export { loadKubeconfig, renderKubeconfig } from './kubeconfig.js';
export type { KubeconfigCredentials } from './kubeconfig.js';
export { KubeClient } from './kube-client.js';
export type { KubeClientOptions, HttpClientTracing, RequestOptions, WatchHandle, PatchType } from './kube-client.js';
export { tracedCall } from './grpc-client.js';
export type { GrpcClientTracing } from './grpc-client.js';
export { preciseNow, preciseTracer } from './precise-clock.js';
export { Informer, objectKey } from './informer.js';
export type { ListWatcher, InformerHandlers, InformerOptions } from './informer.js';
export { klog, formatKlog } from './klog.js';
export type { Klog, KlogSeverity } from './klog.js';
export { seededRandom, randomSeed } from './random.js';
export type { Rand } from './random.js';
export { waitForApiserver } from './apiserver-wait.js';
export { parseQuantity, milliCpu, quantityValue, formatMilliCpu, formatBytes } from './k8s/quantity.js';
