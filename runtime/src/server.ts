import { trace, type Tracer } from '@opentelemetry/api';
import * as grpc from '@grpc/grpc-js';
import {
  loadProto,
  lookupService,
  OTELGRPC_SCOPE,
  tracedUnary,
  type GrpcServerTracing,
  type ServerCallContext,
  type Tracing,
} from '../../shared/src/index.js';
import {
  containerStatus,
  createContainer,
  listContainers,
  removeContainer,
  startContainer,
  stopContainer,
} from './container-service.js';
import { statusResponse, versionResponse } from './cri-messages.js';
import type {
  ContainerIdRequest,
  CreateContainerRequest,
  ImageStatusRequest,
  PodSandboxIdRequest,
  PullImageRequest,
  RunPodSandboxRequest,
  StopContainerRequest,
} from './cri-types.js';
import { ContainerdError } from './errors.js';
import { imageFsInfo, imageStatus, listImages, pullImage } from './image-service.js';
import { LOG_LINES, type LogLines } from './log-lines.js';
import { Runtime, type RuntimeOptions } from './runtime.js';
import { listPodSandbox, podSandboxStatus, removePodSandbox, runPodSandbox, stopPodSandbox } from './sandbox-service.js';
import { exceptionEvent, internalSpanEnd, internalSpanName, recordedError, type ContainerdProfile } from './spans.js';

type Handler<Req, Res> = (req: Req, call: ServerCallContext) => Promise<Res>;

/** Methods that log nothing at any level we print, but may still get 1.7's internal span. */
const NO_LINES: LogLines<unknown, unknown> = { level: 'trace', recordsError: false };

/**
 * containerd's instrumentedService around one criService method: the entry
 * and result log lines (span events through the logrus hook) and, where the
 * release does it, RecordError on the server span (2.x) or the internal
 * `pkg.cri.server.<Method>` span that then carries the lines and the CRI
 * code's span calls, ending Ok or Error (1.7).
 */
function instrumented<Req, Res>(
  rt: Runtime,
  criTracer: Tracer,
  method: string,
  lines: LogLines<Req, Res>,
  handler: Handler<Req, Res>,
): Handler<Req, Res> {
  return async (req, serverCall) => {
    const internal = rt.profile.internalSpanMethods.has(method)
      ? criTracer.startSpan(internalSpanName(method), {}, serverCall.context)
      : undefined;
    const call: ServerCallContext = internal
      ? { ...serverCall, span: internal, context: trace.setSpan(serverCall.context, internal) }
      : serverCall;
    if (lines.start) rt.log(call.span, { level: lines.level, message: lines.start(req) });
    try {
      const res = await handler(req, call);
      if (lines.ok) rt.log(call.span, { level: lines.level, message: lines.ok(req, res) });
      if (internal) internal.setStatus(internalSpanEnd(undefined).status);
      return res;
    } catch (err) {
      const e = err instanceof ContainerdError ? err : undefined;
      // A bug of ours reaches the client as UNKNOWN "internal error" (toGrpcStatus); keep the detail in the log.
      const recorded = e ? recordedError(e.code, e.message, e.goType) : { type: '*errors.errorString', message: String(err) };
      if (lines.fail) rt.log(call.span, { level: 'error', message: lines.fail(req), error: recorded.message });
      if (internal) {
        const end = internalSpanEnd(recorded);
        for (const ev of end.events) internal.addEvent(ev.name, ev.attributes);
        internal.setStatus(end.status);
      } else if (lines.recordsError && rt.profile.serverSpanAnnotations && call.span.isRecording()) {
        const ev = exceptionEvent(recorded);
        call.span.addEvent(ev.name, ev.attributes);
      }
      throw err;
    } finally {
      internal?.end();
    }
  };
}

export interface RuntimeServerDeps {
  readonly runtime: Runtime;
  readonly tracing: ContainerdTracers;
  /** Lines containerd writes through its context-free logger (never span events). */
  readonly log?: (msg: string) => void;
}

/** A grpc.Server with runtime.v1 RuntimeService and ImageService registered, not yet bound. */
export function buildRuntimeServer(deps: RuntimeServerDeps): grpc.Server {
  const rt = deps.runtime;
  const t = deps.tracing;
  const log = deps.log ?? (() => {});
  const pkg = loadProto('cri/api.proto');
  const runtimeSvc = lookupService(pkg, 'runtime.v1.RuntimeService').service;
  const imageSvc = lookupService(pkg, 'runtime.v1.ImageService').service;
  // The loaded definitions are untyped; each handler states the request type it decodes.
  const unary = <Req, Res>(svc: grpc.ServiceDefinition, name: string, h: Handler<Req, Res>) => {
    const def: grpc.MethodDefinition<Req, Res> | undefined = svc[name];
    if (!def) throw new Error(`runtime.v1 proto has no method ${name}`);
    return tracedUnary(t.grpc, def, h);
  };
  const wrap = <Req, Res>(method: string, lines: LogLines<Req, Res>, h: Handler<Req, Res>): Handler<Req, Res> =>
    instrumented(rt, t.cri, method, lines, h);

  const server = new grpc.Server();
  server.addService(runtimeSvc, {
    Version: unary(runtimeSvc, 'Version', async () => {
      await rt.delay('version');
      return versionResponse(rt.profile.runtimeVersion);
    }),
    Status: unary(runtimeSvc, 'Status', async (req: { verbose: boolean }) => {
      await rt.delay('status');
      return statusResponse(req.verbose);
    }),
    RunPodSandbox: unary(
      runtimeSvc,
      'RunPodSandbox',
      wrap('RunPodSandbox', LOG_LINES.RunPodSandbox, (req: RunPodSandboxRequest, c) => runPodSandbox(rt, c.span, req)),
    ),
    PodSandboxStatus: unary(
      runtimeSvc,
      'PodSandboxStatus',
      wrap('PodSandboxStatus', LOG_LINES.PodSandboxStatus, (req: PodSandboxIdRequest) => podSandboxStatus(rt, req)),
    ),
    ListPodSandbox: unary(runtimeSvc, 'ListPodSandbox', (req: { filter: Parameters<typeof listPodSandbox>[1] }) =>
      listPodSandbox(rt, req.filter),
    ),
    StopPodSandbox: unary(
      runtimeSvc,
      'StopPodSandbox',
      wrap('StopPodSandbox', LOG_LINES.StopPodSandbox, (req: PodSandboxIdRequest, c) => stopPodSandbox(rt, c.span, req)),
    ),
    RemovePodSandbox: unary(
      runtimeSvc,
      'RemovePodSandbox',
      wrap('RemovePodSandbox', LOG_LINES.RemovePodSandbox, (req: PodSandboxIdRequest, c) => removePodSandbox(rt, c.span, req, log)),
    ),
    CreateContainer: unary(
      runtimeSvc,
      'CreateContainer',
      wrap('CreateContainer', LOG_LINES.CreateContainer, (req: CreateContainerRequest, c) => createContainer(rt, c.span, req)),
    ),
    StartContainer: unary(
      runtimeSvc,
      'StartContainer',
      wrap('StartContainer', LOG_LINES.StartContainer, (req: ContainerIdRequest, c) => startContainer(rt, c.span, req)),
    ),
    StopContainer: unary(
      runtimeSvc,
      'StopContainer',
      wrap('StopContainer', LOG_LINES.StopContainer, (req: StopContainerRequest, c) => stopContainer(rt, c.span, req)),
    ),
    RemoveContainer: unary(
      runtimeSvc,
      'RemoveContainer',
      wrap('RemoveContainer', LOG_LINES.RemoveContainer, (req: ContainerIdRequest, c) => removeContainer(rt, c.span, req, log)),
    ),
    ContainerStatus: unary(
      runtimeSvc,
      'ContainerStatus',
      wrap('ContainerStatus', LOG_LINES.ContainerStatus, (req: ContainerIdRequest) => containerStatus(rt, req)),
    ),
    ListContainers: unary(runtimeSvc, 'ListContainers', (req: { filter: Parameters<typeof listContainers>[1] }) =>
      listContainers(rt, req.filter),
    ),
  });
  server.addService(imageSvc, {
    PullImage: unary(
      imageSvc,
      'PullImage',
      wrap('PullImage', LOG_LINES.PullImage, (req: PullImageRequest, c) => pullImage(rt, c.span, req)),
    ),
    ImageStatus: unary(
      imageSvc,
      'ImageStatus',
      wrap('ImageStatus', LOG_LINES.ImageStatus, (req: ImageStatusRequest, c) => imageStatus(rt, c.span, req)),
    ),
    ListImages: unary(imageSvc, 'ListImages', wrap('ListImages', NO_LINES, () => listImages(rt))),
    ImageFsInfo: unary(imageSvc, 'ImageFsInfo', wrap('ImageFsInfo', NO_LINES, () => imageFsInfo(rt))),
  });
  return server;
}

/** The tracers of one containerd release on a component's tracer provider. */
export interface ContainerdTracers {
  /** The otelgrpc server instrumentation it links. */
  readonly grpc: GrpcServerTracing;
  /** containerd's own tracing.StartSpan: otel.Tracer(""), no scope name or version. */
  readonly cri: Tracer;
}

export function containerdTracers(tracing: Tracing, profile: ContainerdProfile): ContainerdTracers {
  return {
    grpc: { tracer: tracing.tracer(OTELGRPC_SCOPE, profile.otelgrpc.version), profile: profile.otelgrpc },
    cri: tracing.tracer(''),
  };
}

/** grpc-js bind address: a filesystem path becomes `unix:<path>`; `host:port` stays TCP. */
export function grpcAddress(address: string): string {
  if (address.startsWith('unix:')) return address;
  return address.startsWith('/') || address.startsWith('.') ? `unix:${address}` : address;
}

export function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(grpcAddress(address), grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

/** Stops accepting calls, lets running ones finish for up to `graceMs`, then cancels the rest. */
export function shutdown(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface StartedRuntime {
  /** What a client dials: `unix:/path` or `127.0.0.1:<port>`. */
  readonly address: string;
  readonly runtime: Runtime;
  close(): Promise<void>;
}

/**
 * An in-process runtime for benchmarks and tests: binds to a unix socket path
 * or `host:port` (port 0 picks one), with the given tracer provider.
 */
export async function startRuntimeServer(opts: RuntimeOptions & { address: string; tracing: Tracing }): Promise<StartedRuntime> {
  const runtime = new Runtime(opts);
  const server = buildRuntimeServer({ runtime, tracing: containerdTracers(opts.tracing, runtime.profile) });
  const port = await bind(server, opts.address);
  const addr = grpcAddress(opts.address);
  const address = addr.startsWith('unix:') ? addr : `${addr.slice(0, addr.lastIndexOf(':'))}:${port}`;
  return {
    address,
    runtime,
    async close() {
      await shutdown(server);
      runtime.close();
    },
  };
}
