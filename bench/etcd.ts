/**
 * etcd-sim throughput: KV Range and Txn rates over gRPC, without tracing,
 * with tracing on but no sampled parent (etcd's default: nothing recorded),
 * and with every request carrying a sampled traceparent (one SERVER span per
 * call, exported over OTLP to a collector process), plus each process's
 * resting memory. Run: npm run bench (or node dist/bench/etcd.js --seconds 5).
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ETCD_PROTO_DIR, loadProto, lookupService, parseFlags } from '../shared/src/index.js';
import { freePort, REPO_ROOT, startProcess, waitForListen, type RunningProcess } from '../shared/src/testing/index.js';
import { closedLoop, rssMiB, table, type LoadResult } from './lib.js';

const flags = parseFlags(process.argv.slice(2), {
  seconds: { type: 'float', default: 5, help: 'duration of each measurement' },
  concurrency: { type: 'int', default: 64, help: 'requests in flight' },
  out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'etcd.json'), help: 'where to write JSON results' },
});

type Unary = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

function kvClient(port: number): { raw: grpc.Client; range: Unary; txn: Unary; put: Unary; close(): void } {
  const KV = lookupService(loadProto(join(ETCD_PROTO_DIR, 'rpc.proto')), 'etcdserverpb.KV');
  const c = new KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Unary>;
  return {
    raw: c,
    range: (c['range'] ?? c['Range']) as Unary,
    txn: (c['txn'] ?? c['Txn']) as Unary,
    put: (c['put'] ?? c['Put']) as Unary,
    close: () => c.close(),
  };
}

function call(fn: Unary, client: unknown, req: unknown, md: grpc.Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => fn.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res))));
}

function sampledMetadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('traceparent', `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`);
  return md;
}

async function startEtcd(extra: string[]): Promise<{ proc: RunningProcess; port: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
  const proc = startProcess(['etcd', '--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dir, ...extra]);
  await waitForListen({ host: '127.0.0.1', port });
  return { proc, port };
}

async function measure(port: number, traced: boolean): Promise<{ range: LoadResult; txn: LoadResult }> {
  const kv = kvClient(port);
  const client = kv.raw;
  const md = (): grpc.Metadata => (traced ? sampledMetadata() : new grpc.Metadata());
  const key = Buffer.from('/registry/pods/default/bench');
  await call(kv.put, client, { key, value: Buffer.alloc(1024, 1) }, new grpc.Metadata());
  // Warm-up so JIT and connection set-up stay out of the figures.
  await closedLoop(async () => void (await call(kv.range, client, { key }, md())), flags.concurrency, 1);
  const range = await closedLoop(async () => void (await call(kv.range, client, { key }, md())), flags.concurrency, flags.seconds);
  // The apiserver's create: If(ModRevision(key) = 0) Then(Put); a fresh key each time.
  let n = 0;
  const txn = await closedLoop(
    async () => {
      const k = Buffer.from(`/registry/pods/default/bench-${n++}`);
      await call(
        kv.txn,
        client,
        { compare: [{ key: k, target: 2, result: 0, modRevision: 0 }], success: [{ requestPut: { key: k, value: Buffer.alloc(1024, 2) } }] },
        md(),
      );
    },
    flags.concurrency,
    flags.seconds,
  );
  kv.close();
  return { range, txn };
}

async function main(): Promise<void> {
  const collectorPort = await freePort();
  const collector = startProcess(['collector', '--listen', `127.0.0.1:${collectorPort}`]);
  await waitForListen({ host: '127.0.0.1', port: collectorPort });
  await new Promise((r) => setTimeout(r, 2000));
  const restingCollector = rssMiB(collector.child.pid as number);
  const tracingFlags = [
    '--experimental-enable-distributed-tracing',
    '--experimental-distributed-tracing-address',
    `127.0.0.1:${collectorPort}`,
  ];
  const variants: Array<{ name: string; args: string[]; traced: boolean }> = [
    { name: 'tracing off', args: [], traced: false },
    { name: 'tracing on, no sampled parent', args: tracingFlags, traced: false },
    { name: 'tracing on, every call sampled', args: tracingFlags, traced: true },
  ];
  const rows: Array<Record<string, string | number>> = [];
  const results: Record<string, unknown> = {};
  let restingEtcd = NaN;
  for (const v of variants) {
    const { proc, port } = await startEtcd(v.args);
    await new Promise((r) => setTimeout(r, 2000));
    if (Number.isNaN(restingEtcd)) restingEtcd = rssMiB(proc.child.pid as number);
    const r = await measure(port, v.traced);
    const rss = rssMiB(proc.child.pid as number);
    await proc.stop();
    results[v.name] = { ...r, rssAfterMiB: rss };
    rows.push({ variant: v.name, op: 'Range', 'ops/s': r.range.opsPerSec, 'p50 ms': r.range.p50ms, 'p99 ms': r.range.p99ms, errors: r.range.errors, 'rss MiB': rss });
    rows.push({ variant: v.name, op: 'Txn (create)', 'ops/s': r.txn.opsPerSec, 'p50 ms': r.txn.p50ms, 'p99 ms': r.txn.p99ms, errors: r.txn.errors, 'rss MiB': rss });
  }

  // Resting memory: each process started alone and left idle for 2 s.
  const runtimeSock = join(mkdtempSync(join(tmpdir(), 'runtime-bench-')), 'containerd.sock');
  const runtime = startProcess(['runtime', '--address', runtimeSock, '--timing', 'fast']);
  await waitForListen({ path: runtimeSock });
  await new Promise((r) => setTimeout(r, 2000));
  const resting = {
    etcd: restingEtcd,
    runtime: rssMiB(runtime.child.pid as number),
    collector: restingCollector,
    'collector after the traced runs': rssMiB(collector.child.pid as number),
  };
  await runtime.stop();
  await collector.stop();

  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version };
  process.stdout.write(`etcd-sim over gRPC, ${flags.concurrency} requests in flight, ${flags.seconds} s each, on ${machine.cpus} × ${machine.model}\n\n`);
  process.stdout.write(table(rows) + '\n\n');
  process.stdout.write(table(Object.entries(resting).map(([p, mib]) => ({ process: p, 'resting RSS MiB': mib }))) + '\n');
  mkdirSync(join(flags.out, '..'), { recursive: true });
  writeFileSync(flags.out, JSON.stringify({ machine, concurrency: flags.concurrency, seconds: flags.seconds, results, resting }, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`);
  process.exit(1);
});
