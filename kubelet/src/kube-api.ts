import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import {
  httpClientEndAttributes,
  httpClientSpanName,
  httpClientStartAttributes,
  httpClientStatus,
  StatusError,
  type KubeClient,
  type KubeList,
  type KubeObject,
  type OtelHttpProfile,
  type PatchType,
  type RequestOptions,
  type WatchEvent,
  type WatchHandle,
} from '../../shared/src/index.js';
import type { ListWatcher } from '../../shared/src/informer.js';

/**
 * One simulated node's view of the apiserver: every request goes over the
 * process's single HTTP/2 connection (the shared KubeClient), and gets an
 * otelhttp CLIENT span on that node's tracer provider, as the real kubelet's
 * client config is wrapped with otelhttp.NewTransport. The span shapes come
 * from shared/otelhttp.ts; this only chooses whose provider records them.
 */
export class NodeApi implements ListWatcher {
  private readonly base: URL;

  constructor(
    private readonly client: KubeClient,
    server: string,
    private readonly tracing: { readonly tracer: Tracer; readonly profile: OtelHttpProfile } | undefined,
  ) {
    this.base = new URL(server);
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private start(method: string, path: string, o: RequestOptions): { span: Span | undefined; ctx: Context | undefined } {
    const t = this.tracing;
    if (!t) return { span: undefined, ctx: o.ctx };
    const parent = o.ctx ?? ROOT_CONTEXT;
    const span = t.tracer.startSpan(
      httpClientSpanName(t.profile, method),
      { kind: SpanKind.CLIENT, attributes: httpClientStartAttributes(t.profile, { method, url: this.url(path, o.query), protocolVersion: '2' }) },
      parent,
    );
    return { span, ctx: trace.setSpan(parent, span) };
  }

  private end(span: Span | undefined, statusCode: number | undefined, error?: string): void {
    const t = this.tracing;
    if (!span || !t) return;
    if (statusCode !== undefined) span.setAttributes(httpClientEndAttributes(t.profile, statusCode));
    else span.setAttribute('error.type', error ?? 'transport');
    span.setStatus(httpClientStatus(t.profile, statusCode, error));
    span.end();
  }

  private fail(span: Span | undefined, err: unknown): never {
    if (err instanceof StatusError) this.end(span, err.code);
    else this.end(span, undefined, err instanceof Error ? err.message : String(err));
    throw err;
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const { span, ctx } = this.start(method, path, o);
    try {
      const res = await this.client.request<T>(method, path, { ...o, ...(ctx ? { ctx } : {}) });
      // The shared client resolves bodies only; a successful create is 201, everything else 200.
      this.end(span, method === 'POST' ? 201 : 200);
      return res;
    } catch (err) {
      return this.fail(span, err);
    }
  }

  get<T extends KubeObject>(path: string, o?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, o);
  }
  list<T extends KubeObject>(path: string, o?: RequestOptions): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, o);
  }
  create<T extends KubeObject>(path: string, body: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...o, body });
  }
  replace<T extends KubeObject>(path: string, body: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...o, body });
  }
  patch<T extends KubeObject>(path: string, type: PatchType, body: unknown, o?: RequestOptions): Promise<T> {
    const contentType = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[type];
    return this.request<T>('PATCH', path, { ...o, body, contentType });
  }
  delete<T = unknown>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, { ...o, ...(body === undefined ? {} : { body }) });
  }

  /** A watch is one long GET: its span lasts until the stream ends. */
  watch<T extends KubeObject>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, o: RequestOptions = {}): WatchHandle {
    const { span, ctx } = this.start('GET', path, { ...o, query: { ...query, watch: 'true' } });
    const handle = this.client.watch<T>(path, query, onEvent, { ...o, ...(ctx ? { ctx } : {}) });
    const done = handle.done.then(
      () => this.end(span, 200),
      (err: unknown) => this.fail(span, err),
    );
    return { done, stop: () => handle.stop() };
  }
}
