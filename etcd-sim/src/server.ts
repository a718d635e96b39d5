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
import * as codec from './codec.js';
import { EtcdError } from './errors.js';
import { bytesOf } from './key-span.js';
import { etcdResource, etcdServerTracing } from './spans.js';
import { WatchStream } from './watch.js';

/** The version etcd-sim reports: new enough that kube-apiserver enables RequestWatchProgress. */
export const ETCD_VERSION = '3.5.21';

/** etcd's gRPC allowance on top of --max-request-bytes (grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface MemberInfo {
  readonly name: string;
  readonly id: bigint;
  readonly clusterId: bigint;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

export interface EtcdServerConfig {
  readonly backend: Backend;
  readonly member: MemberInfo;
  readonly tracing: GrpcServerTracing;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly log: LogFn;
  readonly progressIntervalMs?: number;
}

type Unary = (req: codec.Pb) => codec.Pb | Promise<codec.Pb>;

/**
 * Builds (without binding) a grpc.Server with etcd's KV, Watch, Lease,
 * Maintenance and Cluster services. Every RPC runs under an otelgrpc-style
 * SERVER span; errors leave as etcd's gRPC codes and messages.
 */
export function buildEtcdServer(cfg: EtcdServerConfig): grpc.Server {
  const pkg = loadProto(join(ETCD_PROTO_DIR, 'rpc.proto'));
  const service = (name: string): grpc.ServiceDefinition => lookupService(pkg, `etcdserverpb.${name}`).service;
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
    for (const [method, fn] of Object.entries(handlers)) {
      const m = def[method] as grpc.MethodDefinition<codec.Pb, codec.Pb>;
      impl[method] = tracedUnary(cfg.tracing, m, async (req) => {
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
  const tooLarge = (method: grpc.MethodDefinition<codec.Pb, codec.Pb>, req: codec.Pb): void => {
    if (method.requestSerialize(req).length > cfg.maxRequestBytes) throw new EtcdError('requestTooLarge');
  };
  const kv = service('KV');

  add('KV', {
    Range: (req) => codec.rangePb(backend.range(codec.rangeRequest(req)), header(backend.rev)),
    Put: async (req) => {
      tooLarge(kv['Put'] as grpc.MethodDefinition<codec.Pb, codec.Pb>, req);
      const res = await backend.put(codec.putRequest(req));
      return codec.putPb(res, header(res.revision));
    },
    DeleteRange: async (req) => {
      const res = await backend.deleteRange(codec.deleteRangeRequest(req));
      return codec.deleteRangePb(res, header(res.revision));
    },
    Txn: async (req) => {
      tooLarge(kv['Txn'] as grpc.MethodDefinition<codec.Pb, codec.Pb>, req);
      const res = await backend.txn(codec.txnRequest(req), cfg.maxTxnOps);
      return codec.txnPb(res, header(res.revision));
    },
    Compact: async (req) => {
      await backend.compact(codec.int(req['revision']));
      return { header: current() };
    },
  });

  const watchDef = service('Watch')['Watch'] as grpc.MethodDefinition<codec.Pb, codec.Pb>;
  add('Watch', {}, {
    Watch: tracedBidi(cfg.tracing, watchDef, (session) => {
      const stream = new WatchStream(backend, (res) => session.send(res), header, cfg.progressIntervalMs);
      return { onMessage: (req) => stream.handle(req), onClose: () => stream.close() };
    }) as grpc.UntypedHandleCall,
  });

  const keepAliveDef = service('Lease')['LeaseKeepAlive'] as grpc.MethodDefinition<codec.Pb, codec.Pb>;
  add(
    'Lease',
    {
      LeaseGrant: async (req) => {
        const lease = await backend.leaseGrant(codec.int64(req['ID']), codec.int(req['TTL']));
        return { header: current(), ID: lease.id.toString(), TTL: lease.ttl, error: '' };
      },
      LeaseRevoke: async (req) => {
        await backend.leaseRevoke(codec.int64(req['ID']));
        return { header: current() };
      },
      LeaseTimeToLive: (req) => {
        const id = codec.int64(req['ID']);
        const lease = backend.lessor.get(id);
        // An unknown lease is not an error here: TTL -1 says it is gone.
        if (!lease) return { header: current(), ID: id.toString(), TTL: -1, grantedTTL: 0, keys: [] };
        const keys = req['keys'] === true ? [...lease.keys].sort().map(bytesOf) : [];
        return { header: current(), ID: id.toString(), TTL: backend.lessor.remaining(lease), grantedTTL: lease.ttl, keys };
      },
      LeaseLeases: () => ({ header: current(), leases: backend.lessor.list().map((l) => ({ ID: l.id.toString() })) }),
    },
    {
      LeaseKeepAlive: tracedBidi(cfg.tracing, keepAliveDef, (session) => ({
        onMessage: (req) => {
          const id = codec.int64(req['ID']);
          // The header is taken before the renewal, as etcd does; an unknown lease gets TTL 0.
          const res = { header: current(), ID: id.toString(), TTL: 0 };
          try {
            res.TTL = backend.lessor.renew(id);
          } catch (e) {
            if (!(e instanceof EtcdError && e.kind === 'leaseNotFound')) throw e;
          }
          session.send(res);
        },
        onClose: () => {},
      })) as grpc.UntypedHandleCall,
    },
  );

  add('Maintenance', {
    Status: () => ({
      header: current(),
      version: ETCD_VERSION,
      dbSize: backend.dbSize,
      dbSizeInUse: backend.store.bytes,
      leader: member.id.toString(),
      raftIndex: backend.raftIndex,
      raftTerm: backend.term,
      raftAppliedIndex: backend.raftIndex,
      errors: [],
      isLearner: false,
    }),
    Alarm: (req) => {
      // AlarmAction GET (0) lists alarms; this member never raises any.
      if (codec.int(req['action']) !== 0) throw new GrpcError(grpc.status.UNIMPLEMENTED, 'etcd-sim: activating or deactivating alarms is not supported');
      return { header: current(), alarms: [] };
    },
    // etcd 3.5 answers Defragment without a header.
    Defragment: async () => {
      await backend.defragment();
      return {};
    },
    HashKV: (req) => {
      const h = backend.hashKv(codec.int(req['revision']));
      return { header: header(h.rev), hash: h.hash, compactRevision: h.compactRev };
    },
  });

  add('Cluster', {
    // ClusterServer.header() leaves the revision out.
    MemberList: () => ({
      header: { ...current(), revision: 0 },
      members: [{ ID: member.id.toString(), name: member.name, peerURLs: member.peerUrls, clientURLs: member.clientUrls, isLearner: false }],
    }),
  });
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
  readonly progressIntervalMs?: number;
  readonly log?: LogFn;
}

export interface RunningEtcd {
  readonly port: number;
  readonly backend: Backend;
  close(): Promise<void>;
}

/** etcd's defaults for the single member: peer URL and cluster token decide the IDs. */
export const DEFAULT_PEER_URL = 'http://localhost:2380';
export const DEFAULT_CLUSTER_TOKEN = 'etcd-cluster';

/** An etcd-sim member in this process, for tests and benchmarks. */
export async function startEtcdServer(opts: StartEtcdOptions): Promise<RunningEtcd> {
  const log: LogFn = opts.log ?? (() => {});
  const id = memberId([DEFAULT_PEER_URL], DEFAULT_CLUSTER_TOKEN);
  let fatal: Error | undefined;
  const backend = await Backend.open({
    dataDir: opts.dataDir,
    fsync: !opts.unsafeNoFsync,
    snapshotCount: opts.snapshotCount ?? 100_000,
    memberId: id,
    log,
    onFatal: (e) => {
      fatal = e;
      log('error', 'WAL write failed', { error: String(e) });
    },
  });
  const tracing = opts.tracing ?? startTracing({ resource: etcdResource('etcd', ''), enabled: false, sampler: perMillionSampler(0) });
  const host = opts.host ?? '127.0.0.1';
  const clientUrls: string[] = [];
  const member: MemberInfo = { name: opts.name ?? 'default', id, clusterId: clusterId([id]), peerUrls: [DEFAULT_PEER_URL], clientUrls };
  const server = buildEtcdServer({
    backend,
    member,
    tracing: etcdServerTracing(tracing),
    maxTxnOps: opts.maxTxnOps ?? 128,
    maxRequestBytes: opts.maxRequestBytes ?? 1.5 * 1024 * 1024,
    log,
    ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
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
