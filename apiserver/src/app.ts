import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import Fastify, { type FastifyInstance, type RouteHandlerMethod } from 'fastify';
import { preciseNow } from '../../shared/src/precise-clock.js';
import { perMillionSampler, startTracing, statusErrors, type Tracing } from '../../shared/src/index.js';
import { Admission } from './admission.js';
import { bootstrapNamespaces } from './bootstrap.js';
import { EtcdClient } from './etcd-client.js';
import { Exchange } from './exchange.js';
import { handleRequest, type PipelineDeps } from './pipeline.js';
import { PROFILE_1_35, type ApiserverProfile } from './profile.js';
import { Registry } from './registry.js';
import { RESOURCES, resourceByName } from './resources.js';
import { apiserverResource } from './spans.js';
import { ResourceStorage } from './storage.js';
import { tracersFor } from './trace-context.js';
import { WatchMux } from './watch-mux.js';
import { WebhookClient } from './webhook-client.js';
import type { LogFn } from './handler-context.js';

export interface ApiserverConfig {
  readonly bindAddress: string;
  readonly securePort: number;
  readonly tls: { readonly cert: string; readonly key: string; readonly clientCa?: string | undefined };
  /** host:port of the etcd member to use (the first of --etcd-servers). */
  readonly etcd: { readonly host: string; readonly port: number };
  readonly etcdPrefix: string;
  readonly maxRequestBytes: number;
  /** --anonymous-auth: false answers 401 to requests without a verified client certificate. */
  readonly anonymousAuth?: boolean;
  readonly traceMode: 'story' | 'faithful';
  /** --webhook-service-address: `namespace/name` → where that service really listens. */
  readonly webhookServiceAddresses: ReadonlyMap<string, { host: string; port: number }>;
  /** --kube-version's profile; 1.35 when absent. */
  readonly profile?: ApiserverProfile;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (upstream: about a minute). */
  readonly bookmarkIntervalMs?: number;
}

export type ApiserverApp = FastifyInstance<Http2SecureServer, Http2ServerRequest, Http2ServerResponse>;

export interface Apiserver {
  readonly app: ApiserverApp;
  /** Resolves once every watch cache is primed and the default namespaces exist. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    receivedAt?: number;
    payloadStream?: Readable;
  }
}


/** Builds the apiserver (fastify app, etcd client, watch caches, admission) without listening. */
export function buildApiserver(cfg: ApiserverConfig, opts: { tracing?: Tracing; log?: LogFn; hostname?: string } = {}): Apiserver {
  const log: LogFn = opts.log ?? (() => {});
  const profile = cfg.profile ?? PROFILE_1_35;
  const tracing = opts.tracing ?? startTracing({ resource: apiserverResource(opts.hostname ?? 'localhost'), enabled: false, sampler: perMillionSampler(0) });
  const tracers = tracersFor(tracing, profile);
  const etcd = new EtcdClient(`${cfg.etcd.host}:${cfg.etcd.port}`, { ...tracers.etcdGrpc, peer: profile.etcdClientPeer ? cfg.etcd : undefined });
  const mux = new WatchMux(etcd);
  const storages = new Map(RESOURCES.map((r) => [r.resource, new ResourceStorage(r, etcd, mux, cfg.etcdPrefix, log)]));
  const cacheOf = (resource: string) => (storages.get(resource) as ResourceStorage).cacher.cache;
  const prefixOf = (resource: string): string => `${cfg.etcdPrefix}/${resourceByName(resource).etcdResource}/`;
  const admission = new Admission(
    new WebhookClient(cfg.webhookServiceAddresses),
    (kind) => cacheOf(kind === 'mutating' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations').list('').map((c) => c.obj),
    (ns) => cacheOf('namespaces').get(`${prefixOf('namespaces')}${ns}`)?.obj.metadata.labels,
  );
  const registry = new Registry(storages, admission, cfg.traceMode === 'story' && tracing.enabled);
  for (const s of storages.values()) s.cacher.start();
  const allReady = async (): Promise<boolean> => [...storages.values()].every((s) => s.cacher.ready);
  const deps: PipelineDeps = {
    tracers,
    registry,
    maxRequestBytes: cfg.maxRequestBytes,
    anonymousAuth: cfg.anonymousAuth ?? true,
    traceMode: cfg.traceMode,
    bookmarkIntervalMs: cfg.bookmarkIntervalMs ?? 60_000,
    log,
    serverAddress: `${cfg.bindAddress}:${cfg.securePort}`,
    cachesReady: allReady,
    etcdHealthy: async () => {
      try {
        await etcd.get(`${cfg.etcdPrefix}/health`);
        return true;
      } catch {
        return false;
      }
    },
  };

  const app = Fastify({
    http2: true,
    https: { allowHTTP1: true, cert: cfg.tls.cert, key: cfg.tls.key, ...(cfg.tls.clientCa ? { ca: cfg.tls.clientCa } : {}), requestCert: true, rejectUnauthorized: false },
    logger: false,
    routerOptions: { maxParamLength: 8192 },
    // A URL fastify cannot decode still gets a Status, as every error does.
    frameworkErrors: (err, _request, reply) => {
      reply.hijack();
      reply.raw.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
      reply.raw.end(JSON.stringify(statusErrors.badRequest(err.message).status));
    },
  });
  // Bodies are read by the handlers themselves (limitedReadBody), inside their spans.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    request.payloadStream = payload as unknown as Readable;
    done(null, undefined);
  });
  app.addHook('onRequest', (request, _reply, done) => {
    request.receivedAt = preciseNow();
    done();
  });
  const serve: RouteHandlerMethod<Http2SecureServer, Http2ServerRequest, Http2ServerResponse> = (request, reply) => {
    reply.hijack();
    const ex = new Exchange(request.raw as never, reply.raw as never, randomUUID(), request.payloadStream);
    handleRequest(deps, ex, request.receivedAt ?? preciseNow()).catch((e: unknown) => log('request failed', { error: String(e) }));
  };
  app.all('/', serve);
  app.all('/*', serve);
  app.setNotFoundHandler(serve);
  app.setErrorHandler((err: Error, _request, reply) => {
    const status = statusErrors.badRequest(err.message).status;
    void reply.code(400).type('application/json').send(JSON.stringify(status));
  });

  const ready = (async () => {
    await Promise.all([...storages.values()].map((s) => s.cacher.waitReady(60_000)));
    await bootstrapNamespaces(registry, tracers);
  })();
  ready.catch((e: unknown) => log('bootstrap failed', { error: String(e) }));

  return {
    app,
    ready,
    async close() {
      for (const s of storages.values()) s.cacher.stop();
      mux.close();
      await app.close();
      etcd.close();
    },
  };
}

/** Builds the apiserver and listens on --bind-address:--secure-port (0 picks a free port). */
export async function startApiserver(
  cfg: ApiserverConfig,
  opts: { tracing?: Tracing; log?: LogFn; hostname?: string } = {},
): Promise<Apiserver & { readonly port: number; readonly url: string }> {
  const server = buildApiserver(cfg, opts);
  try {
    await server.app.listen({ host: cfg.bindAddress, port: cfg.securePort });
  } catch (e) {
    await server.close();
    const addr = `${cfg.bindAddress}:${cfg.securePort}`;
    const msg = (e as Error).message;
    const why = /EADDRINUSE/.test(msg) ? 'bind: address already in use' : /EADDRNOTAVAIL/.test(msg) ? 'bind: cannot assign requested address' : msg;
    throw new Error(`failed to create listener: failed to listen on ${addr}: listen tcp ${addr}: ${why}`);
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.securePort;
  const host = cfg.bindAddress.includes(':') ? `[${cfg.bindAddress}]` : cfg.bindAddress;
  return { ...server, port, url: `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}` };
}
