import * as http from 'node:http';
import * as https from 'node:https';
import type { ExpectedTrace } from '../../shared/src/manifest.js';
import { fetchedSpans } from './verify-compare.js';
import type { TraceFetcher } from './verify-poll.js';

/**
 * The backends `verify` reads traces back from. Ours and Jaeger v2 speak the
 * same `/api/v3/traces/{id}`; Tempo answers `/api/traces/<id>`.
 */
export type BackendKind = 'query' | 'jaeger' | 'tempo';

export const DEFAULT_QUERY_URL = 'http://127.0.0.1:16686';

export class BackendError extends Error {
  override name = 'BackendError';
}

/** Window around a trace's sends for Jaeger's `start_time`/`end_time`: spans start before they are sent, sometimes long before. */
const WINDOW_BEFORE_MS = 60 * 60_000;
const WINDOW_AFTER_MS = 10 * 60_000;

/**
 * The URL that fetches one trace. Jaeger gets `raw_traces=true`, so no
 * adjuster deduplicates or moves spans before we compare, and a time window,
 * which storage backends use to narrow the search (the in-memory store
 * ignores it). Tempo gets no range: one that misses a block misses the trace.
 */
export function traceUrl(kind: BackendKind, base: string, trace: ExpectedTrace): string {
  const root = base.replace(/\/+$/, '');
  if (kind === 'tempo') return `${root}/api/traces/${trace.traceId}`;
  const q = new URLSearchParams({
    start_time: new Date(trace.firstSentAt - WINDOW_BEFORE_MS).toISOString(),
    end_time: new Date(trace.lastSentAt + WINDOW_AFTER_MS).toISOString(),
    raw_traces: 'true',
  });
  return `${root}/api/v3/traces/${trace.traceId}?${q}`;
}

/** `--header` values, `Key=Value` or `Key: Value`, as a header map. */
export function parseHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(item);
    if (!m || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(m[1] as string)) {
      throw new BackendError(`invalid --header "${item}": want KEY=VALUE, e.g. X-Scope-OrgID=tenant-1`);
    }
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

export interface BackendOptions {
  readonly kind: BackendKind;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM CA bundle to trust for https. */
  readonly ca?: Buffer;
  readonly insecureSkipVerify?: boolean;
  readonly requestTimeoutMs?: number;
  readonly concurrency?: number;
}

export interface Backend {
  readonly fetch: TraceFetcher;
  close(): void;
}

function get(url: URL, agent: http.Agent, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'GET', agent, headers: { accept: 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function openBackend(opts: BackendOptions): Backend {
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw new BackendError(`invalid backend URL "${opts.url}": want http://host:port or https://host:port`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new BackendError(`invalid backend URL "${opts.url}": want http or https`);
  }
  const agentOpts = { keepAlive: true, maxSockets: opts.concurrency ?? 8 };
  const agent =
    base.protocol === 'https:'
      ? new https.Agent({ ...agentOpts, ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: !opts.insecureSkipVerify })
      : new http.Agent(agentOpts);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  return {
    async fetch(trace) {
      const url = new URL(traceUrl(opts.kind, base.href, trace));
      let res: { status: number; body: string };
      try {
        res = await get(url, agent, opts.headers, timeoutMs);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new BackendError(`GET ${url.origin}${url.pathname}: ${e.code && !e.message.includes(e.code) ? `${e.code} ` : ''}${e.message}`);
      }
      // Jaeger and Tempo both answer 404 for a trace they do not hold (yet).
      if (res.status === 404) return undefined;
      if (res.status !== 200) {
        throw new BackendError(`GET ${url.origin}${url.pathname}: HTTP ${res.status}${res.body.trim() ? `: ${res.body.trim().slice(0, 300)}` : ''}`);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(res.body);
      } catch {
        throw new BackendError(`GET ${url.origin}${url.pathname}: the answer is not JSON: ${res.body.slice(0, 120)}`);
      }
      const spans = fetchedSpans(doc);
      return spans.length > 0 ? spans : undefined;
    },
    close: () => agent.destroy(),
  };
}
