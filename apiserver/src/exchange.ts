import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/**
 * One HTTP request and its response as the apiserver's handlers use them,
 * over HTTP/1.1 or HTTP/2 alike. It counts bytes both ways for the SERVER
 * span's body-size attributes and sets the headers kube-apiserver always
 * sends (Audit-Id, Cache-Control).
 */
export class Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Path and query as received (Go's RequestURI). */
  readonly requestUri: string;
  /** "HTTP/2.0" or "HTTP/1.1", as Go's req.Proto. */
  readonly protocol: string;
  status = 0;
  bytesRead = 0;
  bytesWritten = 0;
  private closedFlag = false;

  constructor(
    private readonly req: IncomingMessage | Http2ServerRequest,
    private readonly res: ServerResponse | Http2ServerResponse,
    readonly auditId: string,
    /** The body stream fastify handed over, when it wrapped the raw request. */
    private readonly payload?: Readable,
  ) {
    this.method = (req.method ?? 'GET').toUpperCase();
    this.requestUri = req.url ?? '/';
    const q = this.requestUri.indexOf('?');
    this.path = q >= 0 ? this.requestUri.slice(0, q) : this.requestUri;
    this.query = new URLSearchParams(q >= 0 ? this.requestUri.slice(q + 1) : '');
    this.protocol = req.httpVersionMajor === 2 ? 'HTTP/2.0' : `HTTP/${req.httpVersion ?? '1.1'}`;
    res.once('close', () => (this.closedFlag = true));
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  get headers(): Record<string, string | string[] | undefined> {
    return this.req.headers as Record<string, string | string[] | undefined>;
  }

  get body(): Readable {
    return this.payload ?? (this.req as unknown as Readable);
  }

  get socket(): TLSSocket | undefined {
    // Over HTTP/2, req.socket is a new proxy per stream; the session's proxy
    // is one per connection, so per-connection caches (authn) keep hitting.
    const session = (this.req as Http2ServerRequest).stream?.session;
    return (session?.socket ?? this.req.socket) as TLSSocket | undefined;
  }

  get remoteAddress(): string | undefined {
    return this.req.socket?.remoteAddress?.replace(/^::ffff:/, '');
  }

  get remotePort(): number | undefined {
    return this.req.socket?.remotePort;
  }

  /** Whether the client went away (or the response finished). */
  get closed(): boolean {
    return this.closedFlag;
  }

  onClose(fn: () => void): void {
    this.res.once('close', fn);
  }

  private head(status: number, contentType: string, extra: Record<string, string>): void {
    this.status = status;
    const headers: Record<string, string> = {
      'audit-id': this.auditId,
      'cache-control': 'no-cache, private',
      'content-type': contentType,
      ...extra,
    };
    (this.res as ServerResponse).writeHead(status, headers);
  }

  /** A complete response. */
  send(status: number, contentType: string, body: string | Buffer, extra: Record<string, string> = {}): void {
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (this.closedFlag) return;
    this.head(status, contentType, { 'content-length': String(buf.length), ...extra });
    this.bytesWritten += buf.length;
    (this.res as ServerResponse).end(buf);
  }

  /** Starts a streamed (watch) response. */
  startStream(contentType: string): void {
    this.head(200, contentType, this.protocol === 'HTTP/2.0' ? {} : { 'transfer-encoding': 'chunked' });
    const r = this.res as ServerResponse;
    r.flushHeaders?.();
  }

  write(chunk: string): void {
    if (this.closedFlag) return;
    this.bytesWritten += Buffer.byteLength(chunk);
    (this.res as ServerResponse).write(chunk);
  }

  end(): void {
    if (!this.closedFlag) (this.res as ServerResponse).end();
  }
}
