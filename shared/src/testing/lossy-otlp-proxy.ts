import * as grpc from '@grpc/grpc-js';
import { loadProto, lookupService } from '../proto.js';
import { anyValueToJs, hex, type RawResourceSpans } from '../otlp-json.js';

/** What the drop predicate sees of each span passing through. */
export interface ProxiedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly service: string;
}

export interface LossyOtlpProxyOptions {
  /** The receiver to forward to, `host:port`. */
  upstream: string;
  /** true: the span never reaches the upstream. Default: drop nothing. */
  drop?: (span: ProxiedSpan) => boolean;
  host?: string;
  port?: number;
}

export interface LossyOtlpProxy {
  /** `host:port` to give an exporter. */
  readonly endpoint: string;
  readonly port: number;
  /** Changes what is dropped from the next request on. */
  setDrop(drop: (span: ProxiedSpan) => boolean): void;
  /** Every span dropped so far, in order. */
  dropped(): ProxiedSpan[];
  /** How many spans reached the upstream. */
  forwarded(): number;
  close(): Promise<void>;
}

type ExportRequest = { resourceSpans?: RawResourceSpans[] };
type ExportFn = (req: ExportRequest, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/**
 * An OTLP/gRPC TraceService between senders and a receiver that loses the spans
 * a predicate picks yet answers success, as a lossy network path or a backend
 * that silently discards data would: the sender believes it delivered them.
 * An error from the upstream is passed back, since the sender would see that.
 */
export async function startLossyOtlpProxy(opts: LossyOtlpProxyOptions): Promise<LossyOtlpProxy> {
  const Service = lookupService(loadProto('otlp/trace_service.proto'), 'opentelemetry.proto.collector.trace.v1.TraceService');
  const upstream = new Service(opts.upstream, grpc.credentials.createInsecure());
  const exportUpstream = (upstream['Export'] as ExportFn).bind(upstream);
  let drop = opts.drop ?? (() => false);
  const droppedSpans: ProxiedSpan[] = [];
  let forwarded = 0;

  const server = new grpc.Server();
  server.addService(Service.service, {
    Export: (call: grpc.ServerUnaryCall<ExportRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let kept = 0;
      const resourceSpans: RawResourceSpans[] = [];
      for (const rs of call.request.resourceSpans ?? []) {
        const serviceKv = (rs.resource?.attributes ?? []).find((kv) => kv.key === 'service.name');
        const service = String(anyValueToJs(serviceKv?.value) ?? '');
        const scopeSpans = (rs.scopeSpans ?? []).map((ss) => ({
          ...ss,
          spans: (ss.spans ?? []).filter((s) => {
            const view: ProxiedSpan = {
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name ?? '',
              service,
            };
            if (drop(view)) {
              droppedSpans.push(view);
              return false;
            }
            kept++;
            return true;
          }),
        }));
        resourceSpans.push({ ...rs, scopeSpans: scopeSpans.filter((ss) => ss.spans.length > 0) });
      }
      if (kept === 0) {
        callback(null, {});
        return;
      }
      exportUpstream({ resourceSpans: resourceSpans.filter((rs) => (rs.scopeSpans ?? []).length > 0) }, (err: grpc.ServiceError | null, res: unknown) => {
        if (err) {
          callback(err);
          return;
        }
        forwarded += kept;
        callback(null, res ?? {});
      });
    },
  });
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    endpoint: `${host}:${port}`,
    port,
    setDrop(d) {
      drop = d;
    },
    dropped: () => [...droppedSpans],
    forwarded: () => forwarded,
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      upstream.close();
    },
  };
}
