import * as http2 from 'node:http2';
import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { injectIntoHeaders } from './propagation.js';
import {
  httpClientEndAttributes,
  httpClientSpanName,
  httpClientStartAttributes,
  httpClientStatus,
  type OtelHttpProfile,
} from './otelhttp.js';
import { statusFromResponse } from './k8s/errors.js';
import type { KubeconfigCredentials } from './kubeconfig.js';
import type { KubeList, KubeObject, WatchEvent } from './k8s/types.js';

export type PatchType = 'merge' | 'strategic' | 'json';

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/** The otelhttp transport wrapping of a client: whose tracer records the CLIENT spans, and which otelhttp. */
export interface HttpClientTracing {
  readonly tracer: Tracer;
  readonly profile: OtelHttpProfile;
}

export interface KubeClientOptions extends KubeconfigCredentials {
  readonly userAgent: string;
  /** When set, every request gets an otelhttp CLIENT span (the component's transport is wrapped). */
  readonly tracing?: HttpClientTracing | undefined;
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  /** Parent context for the client span and the traceparent sent. */
  readonly ctx?: Context;
  /**
   * Records this request's CLIENT span on another tracer than the client's
   * (the kubelet's nodes share one connection, each with its own provider).
   */
  readonly tracing?: HttpClientTracing | undefined;
  readonly headers?: Record<string, string>;
}

export interface WatchHandle {
  /** Resolves when the server ends the watch or `stop` is called. */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * One typed client for the apiserver, over HTTP/2 with TLS client
 * certificates as kubelets and controllers connect. Errors arrive as
 * StatusError carrying the apiserver's Status.
 */
export class KubeClient {
  private readonly base: URL;

  constructor(
    private readonly opts: KubeClientOptions,
    // The HTTP/2 session, shared with every view `withTracing` makes.
    private readonly conn: { session?: http2.ClientHttp2Session | undefined } = {},
  ) {
    this.base = new URL(opts.server);
  }

  /**
   * The same connection, with CLIENT spans recorded on another tracer: the
   * kubelet's nodes share one connection, each with its own tracer provider.
   */
  withTracing(tracing: HttpClientTracing | undefined): KubeClient {
    return new KubeClient({ ...this.opts, tracing }, this.conn);
  }

  private get session(): http2.ClientHttp2Session | undefined {
    return this.conn.session;
  }

  private set session(s: http2.ClientHttp2Session | undefined) {
    this.conn.session = s;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const s = http2.connect(this.base.origin, {
      ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      ...(this.opts.cert ? { cert: this.opts.cert } : {}),
      ...(this.opts.key ? { key: this.opts.key } : {}),
      rejectUnauthorized: !this.opts.insecureSkipTLSVerify,
    });
    s.on('error', () => {
      // The next request reconnects; requests in flight see the stream error.
      if (this.session === s) this.session = undefined;
    });
    s.on('goaway', () => {
      if (this.session === s) this.session = undefined;
    });
    s.unref();
    this.session = s;
    return s;
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private startSpan(
    method: string,
    url: URL,
    ctx: Context | undefined,
    t: HttpClientTracing | undefined,
    payload?: string,
  ): { span: Span | undefined; headers: Record<string, string> } {
    const headers: Record<string, string> = {};
    if (!t) {
      if (ctx) injectIntoHeaders(ctx, headers);
      return { span: undefined, headers };
    }
    const parent = ctx ?? ROOT_CONTEXT;
    const span = t.tracer.startSpan(
      httpClientSpanName(t.profile, method),
      {
        kind: SpanKind.CLIENT,
        attributes: httpClientStartAttributes(t.profile, {
          method,
          url,
          protocolVersion: '2',
          userAgent: this.opts.userAgent,
          ...(payload !== undefined ? { requestContentLength: Buffer.byteLength(payload) } : {}),
        }),
      },
      parent,
    );
    injectIntoHeaders(trace.setSpan(parent, span), headers);
    return { span, headers };
  }

  private endSpan(t: HttpClientTracing | undefined, span: Span | undefined, statusCode: number | undefined, error?: string): void {
    if (!span || !t) return;
    if (statusCode !== undefined) span.setAttributes(httpClientEndAttributes(t.profile, statusCode));
    // v0.35's transport calls span.RecordError on a failed round trip; v0.61 sets error.type.
    else if (t.profile.keys === 'v0.35') span.addEvent('exception', { 'exception.type': '*url.Error', 'exception.message': error ?? 'transport' });
    else span.setAttribute('error.type', error ?? 'transport');
    span.setStatus(httpClientStatus(t.profile, statusCode, error));
    span.end();
  }

  private static payload(o: RequestOptions): string | undefined {
    return o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }

  private open(method: string, url: URL, o: RequestOptions, extra: Record<string, string>, payload: string | undefined): http2.ClientHttp2Stream {
    const req = this.connect().request(
      {
        ':method': method,
        ':path': url.pathname + url.search,
        'user-agent': this.opts.userAgent,
        accept: o.accept ?? 'application/json, */*',
        // Go's http2 transport sends content-length for a body of known size, as client-go's are.
        ...(payload !== undefined ? { 'content-type': o.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
        ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        ...extra,
        ...o.headers,
      },
      // Node ends DELETE (and GET) streams at once unless told otherwise, which would drop a body.
      { endStream: payload === undefined },
    );
    if (payload !== undefined) req.end(payload);
    else req.end();
    return req;
  }

  /** One request; resolves with the parsed JSON body on 2xx, rejects with a StatusError otherwise. */
  request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const url = this.url(path, o.query);
    const t = o.tracing ?? this.opts.tracing;
    const payload = KubeClient.payload(o);
    const { span, headers } = this.startSpan(method, url, o.ctx, t, payload);
    return new Promise<T>((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      try {
        req = this.open(method, url, o, headers, payload);
      } catch (err) {
        this.endSpan(t, span, undefined, String(err));
        reject(err);
        return;
      }
      if (this.opts.timeoutMs) req.setTimeout(this.opts.timeoutMs, () => req.close(http2.constants.NGHTTP2_CANCEL));
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // otelhttp's transport span ends when the body is closed, so it includes reading it.
        this.endSpan(t, span, status);
        if (status >= 200 && status < 300) {
          try {
            resolve((body === '' ? undefined : JSON.parse(body)) as T);
          } catch (err) {
            reject(err);
          }
        } else reject(statusFromResponse(status, body));
      });
      req.on('error', (err) => {
        this.endSpan(t, span, undefined, err.message);
        reject(err);
      });
    });
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
    return this.request<T>('PATCH', path, { ...o, body, contentType: PATCH_CONTENT_TYPE[type] });
  }
  delete<T = unknown>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, { ...o, ...(body === undefined ? {} : { body }) });
  }

  /**
   * A watch: newline-delimited WatchEvents delivered to `onEvent` until the
   * server closes the stream (then `done` resolves) or `stop` is called.
   */
  watch<T extends KubeObject>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, o: RequestOptions = {}): WatchHandle {
    const url = this.url(path, { ...query, watch: 'true' });
    const t = o.tracing ?? this.opts.tracing;
    const { span, headers } = this.startSpan('GET', url, o.ctx, t);
    let req: http2.ClientHttp2Stream | undefined;
    let stopped = false;
    const done = new Promise<void>((resolve, reject) => {
      try {
        req = this.open('GET', url, o, headers, undefined);
      } catch (err) {
        this.endSpan(t, span, undefined, String(err));
        reject(err);
        return;
      }
      let status = 0;
      let buf = '';
      const errChunks: string[] = [];
      req.setEncoding('utf8');
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: string) => {
        if (status !== 200) {
          errChunks.push(d);
          return;
        }
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      });
      req.on('end', () => {
        this.endSpan(t, span, status);
        if (status !== 200 && !stopped) reject(statusFromResponse(status, errChunks.join('')));
        else resolve();
      });
      req.on('close', () => {
        if (stopped) {
          this.endSpan(t, span, status || undefined, 'context canceled');
          resolve();
        }
      });
      req.on('error', (err) => {
        this.endSpan(t, span, undefined, err.message);
        if (stopped) resolve();
        else reject(err);
      });
    });
    return {
      done,
      stop() {
        stopped = true;
        req?.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
