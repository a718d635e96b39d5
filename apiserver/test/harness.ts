import { mkdtempSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tracing } from '../../shared/src/index.js';
import { createCA, issueCert, type KeyPair } from '../../shared/src/pki.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { startApiserver, type Apiserver, type ApiserverConfig } from '../src/app.js';
import { EtcdClient } from '../src/etcd-client.js';

/** A real etcd-sim process on a free port (fsync off: tests do not need durability). */
export async function startEtcd(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ port: number; proc: RunningProcess; client: EtcdClient }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-etcd-'));
  const proc = startProcess(['etcd', '--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dir, '--unsafe-no-fsync', ...extra], { env });
  await waitForListen({ host: '127.0.0.1', port });
  return { port, proc, client: new EtcdClient(`127.0.0.1:${port}`, undefined) };
}

export interface Pki {
  readonly ca: KeyPair;
  readonly server: KeyPair;
  /** system:masters, like kubeadm's admin.conf. */
  readonly admin: KeyPair;
  /** A node: system:nodes, not privileged for trace context. */
  readonly node: KeyPair;
}

let pkiCache: Promise<Pki> | undefined;

export function pki(): Promise<Pki> {
  pkiCache ??= (async () => {
    const ca = await createCA('kubernetes');
    return {
      ca,
      server: await issueCert(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' }),
      admin: await issueCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' }),
      node: await issueCert(ca, { commonName: 'system:node:node-1', organizations: ['system:nodes'], usage: 'client' }),
    };
  })();
  return pkiCache;
}

export type TestApiserver = Apiserver & { readonly port: number; readonly url: string };

/** The apiserver in this process on a free port, caches primed. */
export async function startTestApiserver(
  etcdPort: number,
  o: { tracing?: Tracing; config?: Partial<ApiserverConfig> } = {},
): Promise<TestApiserver> {
  const p = await pki();
  const s = await startApiserver(
    {
      bindAddress: '127.0.0.1',
      securePort: 0,
      tls: { cert: p.server.cert, key: p.server.key, clientCa: p.ca.cert },
      etcd: { host: '127.0.0.1', port: etcdPort },
      etcdPrefix: '/registry',
      maxRequestBytes: 3 * 1024 * 1024,
      traceMode: 'story',
      webhookServiceAddresses: new Map(),
      bookmarkIntervalMs: 200,
      ...o.config,
    },
    { ...(o.tracing ? { tracing: o.tracing } : {}), hostname: 'test-host' },
  );
  await s.ready;
  return s;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP/2 request with a client certificate (or none), the raw answer back. */
export async function request(
  url: string,
  method: string,
  path: string,
  o: { body?: unknown; contentType?: string; headers?: Record<string, string>; cert?: KeyPair | null } = {},
): Promise<RawResponse> {
  const p = await pki();
  const cert = o.cert === undefined ? p.admin : o.cert;
  const session = http2.connect(url, { ca: p.ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) });
  // A session error (the server going away) reaches the request as a stream error; unheard here it would crash the run.
  session.on('error', () => undefined);
  try {
    return await new Promise<RawResponse>((resolve, reject) => {
      const payload = o.body === undefined ? undefined : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
      const req = session.request({
        ':method': method,
        ':path': path,
        ...(payload !== undefined ? { 'content-type': o.contentType ?? 'application/json' } : {}),
        ...o.headers,
      }, { endStream: payload === undefined });
      const chunks: Buffer[] = [];
      let headers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (headers = h));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: Number(headers[':status']), headers, text, json: <T>() => JSON.parse(text) as T });
      });
      req.on('error', reject);
      if (payload !== undefined) req.end(payload);
      else req.end();
    });
  } finally {
    session.close();
  }
}

/** The raw value etcd holds for a key, or undefined. */
export async function etcdValue(client: EtcdClient, key: string): Promise<{ value: string; modRevision: number } | undefined> {
  const res = await client.get(key);
  const kv = res.kvs[0];
  return kv ? { value: kv.value.toString('utf8'), modRevision: kv.modRevision } : undefined;
}

export function pod(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] }, ...extra };
}

export interface WatchEventLine {
  readonly type: string;
  readonly object: Record<string, unknown> & { metadata?: Record<string, unknown> };
}

export interface WatchStream {
  readonly status: Promise<number>;
  readonly events: WatchEventLine[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  waitFor(pred: (events: WatchEventLine[]) => boolean, timeoutMs?: number): Promise<WatchEventLine[]>;
  close(): void;
}

/** A watch over HTTP/2: newline-delimited events collected as they arrive. */
export async function watch(url: string, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const p = await pki();
  const session = http2.connect(url, { ca: p.ca.cert, cert: p.admin.cert, key: p.admin.key });
  session.on('error', () => undefined);
  const req = session.request({ ':method': 'GET', ':path': path, ...headers });
  const events: WatchEventLine[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  req.setEncoding('utf8');
  const status = new Promise<number>((resolve) => req.on('response', (h) => resolve(Number(h[':status']))));
  req.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') events.push(JSON.parse(line) as WatchEventLine);
    }
    for (const w of waiters.splice(0)) w();
  });
  const ended = new Promise<void>((resolve) => {
    req.on('end', () => {
      session.close();
      resolve();
    });
    req.on('error', () => resolve());
  });
  return {
    status,
    events,
    ended,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(events)) {
        if (Date.now() > deadline) throw new Error(`watch ${path}: condition not met; got ${JSON.stringify(events.map((e) => e.type))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return events;
    },
    close() {
      req.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    },
  };
}
