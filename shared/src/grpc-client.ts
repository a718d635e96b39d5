import { ROOT_CONTEXT, SpanKind, trace, type Context, type Tracer } from '@opentelemetry/api';
import { Metadata, status as GrpcStatus, type CallOptions, type Client, type MethodDefinition } from '@grpc/grpc-js';
import { injectIntoMetadata } from './propagation.js';
import { grpcErrorOf } from './grpc-errors.js';
import {
  grpcMessageEvent,
  messageEventsOnError,
  grpcSpanStart,
  grpcSpanStatus,
  grpcStatusAttributes,
  type OtelGrpcProfile,
  type Peer,
} from './otelgrpc.js';

/** The otelgrpc client instrumentation of one caller: tracer, otelgrpc release, and the peer it dials. */
export interface GrpcClientTracing {
  readonly tracer: Tracer;
  readonly profile: OtelGrpcProfile;
  /** The dialled host:port when otelgrpc could parse it; undefined for unix sockets and etcd's resolver targets. */
  readonly peer?: Peer | undefined;
}

/**
 * One unary call wrapped as otelgrpc wraps a Go client: a CLIENT span (child
 * of `ctx`) that injects W3C context into the metadata, records SENT and
 * RECEIVED message events when the profile does, and ends with the status.
 */
export function tracedCall<Req, Res>(
  t: GrpcClientTracing | undefined,
  client: Client,
  def: MethodDefinition<Req, Res>,
  req: Req,
  ctx: Context = ROOT_CONTEXT,
  options: CallOptions = {},
): Promise<Res> {
  const md = new Metadata();
  if (!t) {
    injectIntoMetadata(ctx, md);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, md, options, (err, res) =>
        err ? reject(err) : resolve(res as Res),
      );
    });
  }
  const start = grpcSpanStart(t.profile, def.path, SpanKind.CLIENT, t.peer);
  const span = t.tracer.startSpan(start.name, { kind: start.kind, attributes: start.attributes }, ctx);
  injectIntoMetadata(trace.setSpan(ctx, span), md);
  const events = t.profile.messageEvents !== 'none';
  // The sizes are those of the bytes on the wire: the events are recorded as
  // grpc-js serializes the request and before it decodes the reply, so no
  // message is encoded twice.
  let receivedSize = 0;
  const serialize = events
    ? (v: Req): Buffer => {
        const b = def.requestSerialize(v);
        const ev = grpcMessageEvent(t.profile, 'SENT', 1, b.length);
        if (ev) span.addEvent('message', ev);
        return b;
      }
    : def.requestSerialize;
  const deserialize = events
    ? (b: Buffer): Res => {
        receivedSize = b.length;
        return def.responseDeserialize(b);
      }
    : def.responseDeserialize;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(def.path, serialize, deserialize, req, md, options, (err, res) => {
      if (err) {
        const { code, message } = grpcErrorOf(err);
        if (messageEventsOnError(t.profile)) {
          const ev = grpcMessageEvent(t.profile, 'RECEIVED', 1, 0);
          if (ev) span.addEvent('message', ev);
        }
        span.setAttributes(grpcStatusAttributes(t.profile, code));
        span.setStatus(grpcSpanStatus(t.profile, SpanKind.CLIENT, code, message));
        span.end();
        reject(err);
        return;
      }
      if (events) {
        const ev = grpcMessageEvent(t.profile, 'RECEIVED', 1, receivedSize);
        if (ev) span.addEvent('message', ev);
      }
      span.setAttributes(grpcStatusAttributes(t.profile, GrpcStatus.OK));
      span.end();
      resolve(res as Res);
    });
  });
}
