import { wireSize } from './proto.js';
import {
  SpanKind,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  Metadata,
  status as GrpcStatus,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { extractFromMetadata } from './propagation.js';
import {
  grpcMessageEvent,
  messageEventsOnError,
  statusProtoSize,
  grpcSpanStart,
  grpcSpanStatus,
  grpcStatusAttributes,
  parsePeer,
  type OtelGrpcProfile,
} from './otelgrpc.js';
import { toGrpcStatus } from './grpc-errors.js';

/** The otelgrpc server instrumentation of one component: its tracer and the otelgrpc release it links. */
export interface GrpcServerTracing {
  readonly tracer: Tracer;
  readonly profile: OtelGrpcProfile;
}

export interface ServerCallContext {
  /** The otelgrpc SERVER span; handlers add component attributes and events to it. */
  readonly span: Span;
  /** Context with that span active, for any child span. */
  readonly context: Context;
  readonly metadata: Metadata;
  readonly peer: string;
}

function startServerSpan(
  t: GrpcServerTracing,
  path: string,
  metadata: Metadata,
  peer: string,
): { span: Span; context: Context } {
  const parent = extractFromMetadata(metadata);
  const start = grpcSpanStart(t.profile, path, SpanKind.SERVER, parsePeer(peer));
  const span = t.tracer.startSpan(start.name, { kind: start.kind, attributes: start.attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

function endServerSpan(t: GrpcServerTracing, span: Span, code: number, message: string): void {
  span.setAttributes(grpcStatusAttributes(t.profile, code));
  span.setStatus(grpcSpanStatus(t.profile, SpanKind.SERVER, code, message));
  span.end();
}

const sizeOf = wireSize;

/**
 * A grpc-js unary handler from a promise-returning one, wrapped the way
 * otelgrpc wraps a Go server: a SERVER span per call, child of the caller's
 * W3C context, ended with the status the client sees.
 */
export function tracedUnary<Req, Res>(
  t: GrpcServerTracing,
  def: MethodDefinition<Req, Res>,
  handler: (req: Req, call: ServerCallContext) => Promise<Res> | Res,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  const events = t.profile.messageEvents !== 'none';
  return (call, callback) => {
    const peer = call.getPeer();
    const { span, context } = startServerSpan(t, def.path, call.metadata, peer);
    if (events) {
      const ev = grpcMessageEvent(t.profile, 'RECEIVED', 1, sizeOf(def.requestSerialize, call.request));
      if (ev) span.addEvent('message', ev);
    }
    Promise.resolve()
      .then(() => handler(call.request, { span, context, metadata: call.metadata, peer }))
      .then(
        (res) => {
          if (events) {
            const ev = grpcMessageEvent(t.profile, 'SENT', 1, sizeOf(def.responseSerialize, res));
            if (ev) span.addEvent('message', ev);
          }
          callback(null, res);
          endServerSpan(t, span, GrpcStatus.OK, '');
        },
        (err: unknown) => {
          const st = toGrpcStatus(err);
          if (messageEventsOnError(t.profile)) {
            const ev = grpcMessageEvent(t.profile, 'SENT', 1, statusProtoSize(st.code, st.details ?? ''));
            if (ev) span.addEvent('message', ev);
          }
          callback(st);
          endServerSpan(t, span, st.code, st.details);
        },
      );
  };
}

export interface StreamSession<Res> {
  readonly span: Span;
  readonly context: Context;
  readonly metadata: Metadata;
  readonly peer: string;
  /** Writes a response and records its message event. */
  send(res: Res): void;
}

/**
 * A bidirectional stream (etcd Watch, LeaseKeepAlive) under one SERVER span
 * that lives as long as the stream, as otelgrpc's stream interceptor makes it.
 * `onMessage` runs per request; `onClose` once, when the client goes away.
 */
export function tracedBidi<Req, Res>(
  t: GrpcServerTracing,
  def: MethodDefinition<Req, Res>,
  open: (session: StreamSession<Res>) => {
    onMessage(req: Req): void | Promise<void>;
    onClose(): void;
  },
): (call: ServerDuplexStream<Req, Res>) => void {
  const events = t.profile.messageEvents !== 'none';
  return (call) => {
    const peer = call.getPeer();
    const { span, context } = startServerSpan(t, def.path, call.metadata, peer);
    let received = 0;
    let sent = 0;
    let closed = false;
    const session: StreamSession<Res> = {
      span,
      context,
      metadata: call.metadata,
      peer,
      send(res) {
        if (closed) return;
        if (events) {
          const ev = grpcMessageEvent(t.profile, 'SENT', ++sent, sizeOf(def.responseSerialize, res));
          if (ev) span.addEvent('message', ev);
        }
        call.write(res);
      },
    };
    const handlers = open(session);
    const finish = (code: number, message: string): void => {
      if (closed) return;
      closed = true;
      handlers.onClose();
      endServerSpan(t, span, code, message);
    };
    call.on('data', (req: Req) => {
      if (events) {
        const ev = grpcMessageEvent(t.profile, 'RECEIVED', ++received, sizeOf(def.requestSerialize, req));
        if (ev) span.addEvent('message', ev);
      }
      Promise.resolve()
        .then(() => handlers.onMessage(req))
        .catch((err: unknown) => {
          const st = toGrpcStatus(err);
          finish(st.code, st.details);
          // grpc-js sends a status on a server stream through its 'error' event.
          call.emit('error', st);
        });
    });
    call.on('end', () => {
      call.end();
      finish(GrpcStatus.OK, '');
    });
    call.on('cancelled', () => finish(GrpcStatus.CANCELLED, 'context canceled'));
    call.on('error', () => finish(GrpcStatus.CANCELLED, 'context canceled'));
  };
}
