import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  ETCD_PROTO_DIR,
  GrpcError,
  loadProto,
  lookupService,
  perMillionSampler,
  startTracing,
  tracedBidi,
  tracedUnary,
  type GrpcServerTracing,
  type Tracing,
} from '../../shared/src/index.js';
import { Backend, type LogFn } from './backend.js';
import { clusterId, memberId } from './cluster.js';
import { ETCD_FLAGS } from './config.js';
import * as codec from './codec.js';
import { EtcdError } from './errors.js';
import { clusterHandlers, keepAlive, leaseHandlers, maintenanceHandlers, type MemberInfo, type Unary } from './services.js';
import { DEFAULT_ETCD_VERSION, ETCD_PROFILES, etcdResource, etcdServerTracing, type EtcdVersion } from './spans.js';
import { WatchStream } from './watch.js';

export { ETCD_VERSION, type MemberInfo } from './services.js';

/** etcd's gRPC allowance on top of --max-request-bytes (grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface EtcdServerConfig {
  readonly backend: Backend;
  readonly member: MemberInfo;
  readonly tracing: GrpcServerTracing;
  /** What Maintenance.Status reports; the default release's when unset. */
  readonly version?: string;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly log: LogFn;
  /** --experimental-watch-progress-notify-interval */
  readonly progressIntervalMs: number;
}

type Method = grpc.MethodDefinition<codec.Pb, codec.Pb>;

/**
 * Builds (without binding) a grpc.Server with etcd's KV, Watch, Lease,
 * Maintenance and Cluster services. Every RPC runs under an otelgrpc-style
 * SERVER span, as etcd's interceptors wrap every method; errors leave as
 * etcd's gRPC codes and messages. Unary RPCs we do not simulate (member
 * changes, auth, Hash, MoveLeader, Downgrade) answer UNIMPLEMENTED, traced too.
 */
export function buildEtcdServer(cfg: EtcdServerConfig): grpc.Server {
  const pkg = loadProto(join(ETCD_PROTO_DIR, 'rpc.proto'));
  const service = (name: string): grpc.ServiceDefinition => lookupService(pkg, `etcdserverpb.${name}`).service;
  const method = (svc: string, name: string): Method => service(svc)[name] as Method;
  const { backend, member } = cfg;
  const header = (revision: number): codec.Pb => ({
    clusterId: member.clusterId.toString(),
    memberId: member.id.toString(),
    revision,
    raftTerm: backend.term,
  });
  const current = (): codec.Pb => header(backend.rev);

  const server = new grpc.Server({ 'grpc.max_receive_message_length': cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES });
  const add = (name: string, handlers: Record<string, Unary>, streams: Record<string, grpc.UntypedHandleCall> = {}): void => {
    const def = service(name);
    const impl: grpc.UntypedServiceImplementation = { ...streams };
    for (const [rpc, m] of Object.entries(def) as [string, Method][]) {
      if (impl[rpc] || m.requestStream || m.responseStream) continue;
      const fn =
        handlers[rpc] ??
        ((): never => {
          throw new GrpcError(grpc.status.UNIMPLEMENTED, `etcd-sim does not implement ${m.path.slice(1)}`);
        });
      impl[rpc] = tracedUnary(cfg.tracing, m, async (req) => {
        try {
          return await fn(req);
        } catch (e) {
          if (!(e instanceof GrpcError)) cfg.log('error', 'unexpected error serving a request', { method: m.path, error: String(e) });
          throw e;
        }
      }) as grpc.UntypedHandleCall;
    }
    server.addService(def, impl);
  };

  // etcd measures the raft request; the encoded gRPC request is within a few bytes of it.
  const tooLarge = (m: Method, req: codec.Pb): void => {
    if (m.requestSerialize(req).length > cfg.maxRequestBytes) throw new EtcdError('requestTooLarge');
  };
  const [putMethod, txnMethod] = [method('KV', 'Put'), method('KV', 'Txn')];

  add('KV', {
    Range: (req) => codec.rangePb(backend.range(codec.rangeRequest(req)), header(backend.rev)),
    Put: async (req) => {
      tooLarge(putMethod, req);
      const res = await backend.put(codec.putRequest(req));
      return codec.putPb(res, header(res.revision));
    },
    DeleteRange: async (req) => {
      const res = await backend.deleteRange(codec.deleteRangeRequest(req));
      return codec.deleteRangePb(res, header(res.revision));
    },
    Txn: async (req) => {
      tooLarge(txnMethod, req);
      const res = await backend.txn(codec.txnRequest(req), cfg.maxTxnOps);
      return codec.txnPb(res, header(res.revision));
    },
    Compact: async (req) => {
      await backend.compact(codec.int(req['revision']));
      return { header: current() };
    },
  });

  add('Watch', {}, {
    Watch: tracedBidi(cfg.tracing, method('Watch', 'Watch'), (session) => {
      const stream = new WatchStream(backend, (res) => session.send(res), header, cfg.progressIntervalMs);
      return { onMessage: (req) => stream.handle(req), onClose: () => stream.close() };
    }) as grpc.UntypedHandleCall,
  });

  add('Lease', leaseHandlers(backend, current), {
    LeaseKeepAlive: tracedBidi(cfg.tracing, method('Lease', 'LeaseKeepAlive'), (session) => ({
      onMessage: (req) => session.send(keepAlive(backend, current, req)),
      onClose: () => {},
    })) as grpc.UntypedHandleCall,
  });
  add('Maintenance', maintenanceHandlers(backend, member, header, cfg.version));
  add('Cluster', clusterHandlers(member, current));
  add('Auth', {});
  return server;
}

export interface StartEtcdOptions {
  readonly dataDir: string;
  /** Default 127.0.0.1 and a free port. */
  readonly host?: string;
  readonly port?: number;
  readonly name?: string;
  readonly unsafeNoFsync?: boolean;
  readonly snapshotCount?: number;
  readonly maxTxnOps?: number;
  readonly maxRequestBytes?: number;
  /** Default: tracing off. */
  readonly tracing?: Tracing;
  /** The release imitated; default 3.5.21. */
  readonly etcdVersion?: EtcdVersion;
  readonly progressIntervalMs?: number;
  readonly log?: LogFn;
}

export interface RunningEtcd {
  readonly port: number;
  readonly backend: Backend;
  close(): Promise<void>;
}

/** An etcd-sim member in this process, for tests and benchmarks; unset options take etcd's flag defaults. */
export async function startEtcdServer(opts: StartEtcdOptions): Promise<RunningEtcd> {
  const log: LogFn = opts.log ?? (() => {});
  const peerUrl = ETCD_FLAGS['initial-advertise-peer-urls'].default;
  const id = memberId([peerUrl], ETCD_FLAGS['initial-cluster-token'].default);
  let fatal: Error | undefined;
  const backend = await Backend.open({
    dataDir: opts.dataDir,
    fsync: !opts.unsafeNoFsync,
    snapshotCount: opts.snapshotCount ?? ETCD_FLAGS['snapshot-count'].default,
    memberId: id,
    log,
    onFatal: (e) => {
      fatal = e;
      log('error', 'WAL write failed', { error: String(e) });
    },
  });
  const tracing =
    opts.tracing ??
    startTracing({ resource: etcdResource(ETCD_FLAGS['experimental-distributed-tracing-service-name'].default, ''), enabled: false, sampler: perMillionSampler(0) });
  const host = opts.host ?? '127.0.0.1';
  const clientUrls: string[] = [];
  const member: MemberInfo = { name: opts.name ?? ETCD_FLAGS.name.default, id, clusterId: clusterId([id]), peerUrls: [peerUrl], clientUrls };
  const profile = ETCD_PROFILES[opts.etcdVersion ?? DEFAULT_ETCD_VERSION];
  const server = buildEtcdServer({
    backend,
    member,
    tracing: etcdServerTracing(tracing, profile),
    version: profile.version,
    maxTxnOps: opts.maxTxnOps ?? ETCD_FLAGS['max-txn-ops'].default,
    maxRequestBytes: opts.maxRequestBytes ?? ETCD_FLAGS['max-request-bytes'].default,
    log,
    progressIntervalMs: opts.progressIntervalMs ?? ETCD_FLAGS['experimental-watch-progress-notify-interval'].default,
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (e) {
    server.forceShutdown();
    await backend.close();
    throw e;
  }
  clientUrls.push(`http://${host}:${port}`);
  return {
    port,
    backend,
    async close() {
      await stopServer(server);
      await backend.close();
      if (fatal) throw fatal;
    },
  };
}

/** Graceful stop, but open streams (watches, keep-alives) get one second before they are cut. */
export function stopServer(server: grpc.Server, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
