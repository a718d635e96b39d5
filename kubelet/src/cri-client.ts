import * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { grpcErrorOf, loadProto, lookupService, tracedCall, type GrpcClientTracing } from '../../shared/src/index.js';

/**
 * The kubelet's one client for the container runtime (cri-client's
 * remoteRuntimeService and remoteImageService): one gRPC channel to the
 * socket shared by both services and by every simulated node of the process;
 * each call is wrapped by the calling node's otelgrpc instrumentation.
 */

export type RuntimeMethod =
  | 'Version'
  | 'Status'
  | 'RunPodSandbox'
  | 'StopPodSandbox'
  | 'RemovePodSandbox'
  | 'PodSandboxStatus'
  | 'ListPodSandbox'
  | 'CreateContainer'
  | 'StartContainer'
  | 'StopContainer'
  | 'RemoveContainer'
  | 'ListContainers'
  | 'ContainerStatus';

export type ImageMethod = 'ImageStatus' | 'PullImage' | 'ListImages' | 'ImageFsInfo';

/** `unix:///run/containerd/containerd.sock` as the kubelet flag takes it, or a bare path, or host:port. */
export function criTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:')) return `unix://${endpoint.slice('unix:'.length)}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  if (endpoint.startsWith('tcp://')) return endpoint.slice('tcp://'.length);
  return endpoint;
}

const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** A CRI failure as Go prints a gRPC status error: `rpc error: code = NotFound desc = …`. */
export function criErrorText(err: unknown): string {
  const { code } = grpcErrorOf(err);
  const details = (err as { details?: unknown } | undefined)?.details;
  const message = typeof details === 'string' ? details : err instanceof Error ? err.message : String(err);
  return `rpc error: code = ${GO_CODE_NAMES[code] ?? 'Unknown'} desc = ${message}`;
}

export function isCriNotFound(err: unknown): boolean {
  return grpcErrorOf(err).code === grpc.status.NOT_FOUND;
}

/** How long a CRI call may take (--runtime-request-timeout, 2m); image pulls have no deadline. */
const DEFAULT_TIMEOUT_MS = 120_000;

export class CriClient {
  private readonly runtimeClient: grpc.Client;
  private readonly imageClient: grpc.Client;
  private readonly runtimeSvc: grpc.ServiceDefinition;
  private readonly imageSvc: grpc.ServiceDefinition;

  constructor(
    readonly endpoint: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const pkg = loadProto('cri/api.proto');
    const Runtime = lookupService(pkg, 'runtime.v1.RuntimeService');
    const Image = lookupService(pkg, 'runtime.v1.ImageService');
    this.runtimeSvc = Runtime.service;
    this.imageSvc = Image.service;
    // The kubelet dials with 16 MiB message limits (cri-client maxMsgSize).
    const options = { 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 };
    this.runtimeClient = new Runtime(criTarget(endpoint), grpc.credentials.createInsecure(), options);
    this.imageClient = new Image(criTarget(endpoint), grpc.credentials.createInsecure(), { ...options, channelOverride: this.runtimeClient.getChannel() });
  }

  private call<Res>(client: grpc.Client, svc: grpc.ServiceDefinition, method: string, req: object, t: GrpcClientTracing | undefined, ctx: Context, timeoutMs: number | undefined): Promise<Res> {
    const def = svc[method] as grpc.MethodDefinition<object, Res> | undefined;
    if (!def) return Promise.reject(new Error(`runtime.v1 has no method ${method}`));
    const options = timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
    return tracedCall(t, client, def, req, ctx, options);
  }

  // The loaded proto definitions are untyped; callers state the response shape they read.
  runtime<Res>(method: RuntimeMethod, req: object, t?: GrpcClientTracing, ctx: Context = ROOT_CONTEXT): Promise<Res> {
    return this.call<Res>(this.runtimeClient, this.runtimeSvc, method, req, t, ctx, this.timeoutMs);
  }

  image<Res>(method: ImageMethod, req: object, t?: GrpcClientTracing, ctx: Context = ROOT_CONTEXT): Promise<Res> {
    return this.call<Res>(this.imageClient, this.imageSvc, method, req, t, ctx, method === 'PullImage' ? undefined : this.timeoutMs);
  }

  close(): void {
    this.imageClient.close();
    this.runtimeClient.close();
  }
}
