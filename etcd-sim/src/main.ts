import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { formatUsage, onShutdown, startTracing, type CommandMain } from '../../shared/src/index.js';
import { startAutoCompaction } from './auto-compaction.js';
import { Backend } from './backend.js';
import { clusterId, idHex, memberId } from './cluster.js';
import { etcdFlags, parseEtcdConfig, type EtcdConfig } from './config.js';
import { etcdResource, etcdSampler, etcdServerTracing } from './spans.js';
import { buildEtcdServer, stopServer } from './server.js';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 } as const;

/** etcd's zap JSON logging: one line per message on stderr. */
function jsonLogger(min: EtcdConfig['logLevel']): (level: keyof typeof LEVELS, msg: string, fields?: object) => void {
  return (level: keyof typeof LEVELS, msg: string, fields: object = {}) => {
    if (LEVELS[level] < LEVELS[min]) return;
    process.stderr.write(JSON.stringify({ level, ts: new Date().toISOString(), msg, ...fields }) + '\n');
  };
}

function bind(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (!err) return resolve(bound);
      // Say it the way Go's net.Listen does.
      const why = /EADDRINUSE/.test(err.message) ? 'bind: address already in use' : /EADDRNOTAVAIL/.test(err.message) ? 'bind: cannot assign requested address' : err.message;
      reject(new Error(`listen tcp ${address}: ${why}`));
    }),
  );
}

export const main: CommandMain = async (argv) => {
  const cfg = parseEtcdConfig(argv);
  if (cfg.help) {
    process.stdout.write(formatUsage('etcd', `etcd-sim: a single-member etcd ${cfg.profile.version} v3 API server (gRPC) with etcd's tracing.`, etcdFlags(cfg.profile)) + '\n');
    return;
  }
  const log = jsonLogger(cfg.logLevel);
  const tracing = startTracing({
    resource: etcdResource(cfg.tracing.serviceName, cfg.tracing.instanceId),
    enabled: cfg.tracing.enabled,
    endpoint: cfg.tracing.address,
    sampler: etcdSampler(cfg.profile, cfg.tracing.samplingRate),
  });
  if (cfg.tracing.enabled) {
    const rate = cfg.profile.samplingRateFlag ? { 'sampling-rate': cfg.tracing.samplingRate } : {};
    log('info', 'distributed tracing enabled', { address: cfg.tracing.address, 'service-name': cfg.tracing.serviceName, ...rate });
  }

  const id = memberId(cfg.peerUrls, cfg.clusterToken);
  const cid = clusterId([id]);
  log('info', 'starting etcd-sim', { 'etcd-version': cfg.profile.version, name: cfg.name, 'data-dir': cfg.dataDir, 'member-id': idHex(id), 'cluster-id': idHex(cid) });
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  let stopping = false;
  const backend = await Backend.open({
    dataDir: cfg.dataDir,
    fsync: cfg.fsync,
    snapshotCount: cfg.snapshotCount,
    memberId: id,
    log,
    onFatal: (e) => {
      // etcd cannot go on without its WAL either (it panics); exit so a supervisor restarts us.
      log('fatal', 'failed to write to the WAL', { error: String(e) });
      process.exit(1);
    },
  });
  log('info', 'recovered store', { 'current-revision': backend.rev, 'compact-revision': backend.store.compactRev, 'raft-index': backend.raftIndex, term: backend.term, leases: backend.lessor.size });

  const server = buildEtcdServer({
    backend,
    member: { name: cfg.name, id, clusterId: cid, peerUrls: cfg.peerUrls, clientUrls: cfg.advertiseClientUrls },
    tracing: etcdServerTracing(tracing, cfg.profile),
    version: cfg.profile.version,
    maxTxnOps: cfg.maxTxnOps,
    maxRequestBytes: cfg.maxRequestBytes,
    log,
    progressIntervalMs: cfg.watchProgressNotifyMs,
  });
  try {
    for (const l of cfg.listen) {
      const port = await bind(server, l.host, l.port);
      log('info', 'serving client traffic insecurely; this is strongly discouraged!', { traffic: 'grpc', address: `${l.host}:${port}` });
    }
  } catch (e) {
    server.forceShutdown();
    await backend.close();
    throw e;
  }
  const stopCompaction = cfg.compaction ? startAutoCompaction(cfg.compaction, backend, (level, msg, fields) => log(level, msg, fields)) : () => {};
  log('info', 'ready to serve client requests');

  onShutdown(async () => {
    if (stopping) return;
    stopping = true;
    stopCompaction();
    await stopServer(server);
    await backend.close();
    await tracing.shutdown();
    log('info', 'stopped etcd-sim');
  }, (msg) => log('info', msg));
};
