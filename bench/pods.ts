/**
 * Whole-system throughput: pods created with the apiserver's REST API (as
 * kubectl would, over HTTP/2 with the admin kubeconfig), counted once the
 * kubelet reports them Running, with `up --timing fast` and every span
 * exported to an OTLP receiver in this process. Reports pods/s, spans/s and
 * each process's peak memory. Run: npm run build && node dist/bench/pods.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, loadKubeconfig, parseFlags, startOtlpReceiver, type Pod } from '../shared/src/index.js';
import { freePort, REPO_ROOT, startProcess } from '../shared/src/testing/index.js';
import { cpuSeconds, peakRssMiB, pssMiB, table } from './lib.js';

const flags = parseFlags(process.argv.slice(2), {
  pods: { type: 'int', default: 1000, help: 'pods to create' },
  nodes: { type: 'int', default: 10, help: 'simulated nodes' },
  concurrency: { type: 'int', default: 32, help: 'create requests in flight' },
  mode: { type: 'string', default: 'story', help: 'story or faithful' },
  out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'pods.json'), help: 'JSON results' },
});

function childrenOf(pid: number): Array<{ pid: number; name: string }> {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [p, ...args] = l.trim().split(/\s+/);
      const i = args.findIndex((a) => a.endsWith('k8s-trace-sim.js'));
      return { pid: Number(p), name: args[i + 1] ?? args.join(' ') };
    });
}

async function main(): Promise<void> {
  // Only counts and names are read here: no OTLP/JSON copy for a query API.
  const receiver = await startOtlpReceiver({ maxSpans: 5_000_000, keepOtlpJson: false });
  const dataDir = mkdtempSync(join(tmpdir(), 'pods-bench-'));
  const ports = { apiserver: await freePort(), etcd: await freePort(), webhook: await freePort() };
  const up = startProcess(
    ['up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast', '--nodes', String(flags.nodes), '--mode', flags.mode, '--otlp-endpoint', receiver.endpoint,
      '--apiserver-port', String(ports.apiserver), '--etcd-port', String(ports.etcd), '--webhook-port', String(ports.webhook)],
    { env: { OTEL_BSP_SCHEDULE_DELAY: '500', OTEL_BSP_MAX_QUEUE_SIZE: '65536' } },
  );
  const t0 = Date.now();
  while (!up.output().includes('Press Ctrl-C')) {
    if (up.child.exitCode !== null) throw new Error(`up exited:\n${up.output()}`);
    if (Date.now() - t0 > 60_000) throw new Error(`up not ready:\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const startupSeconds = (Date.now() - t0) / 1000;
  const client = new KubeClient({ ...loadKubeconfig(join(dataDir, 'kubeconfig')), userAgent: 'k8s-trace-sim-bench' });
  const running = new Set<string>();
  const list = await client.list<Pod>('/api/v1/namespaces/default/pods');
  let done!: () => void;
  const allRunning = new Promise<void>((r) => (done = r));
  const watch = client.watch<Pod>('/api/v1/namespaces/default/pods', { resourceVersion: list.metadata.resourceVersion }, (e) => {
    if (e.object.status?.phase === 'Running' && !running.has(e.object.metadata.name ?? '')) {
      running.add(e.object.metadata.name ?? '');
      if (running.size === flags.pods) done();
    }
  });
  const spansBefore = receiver.stats().spansAccepted;
  const kids = childrenOf(up.child.pid as number);
  const cpuBefore = new Map(kids.map((c) => [c.pid, cpuSeconds(c.pid)]));
  // PSS has no kernel high-water mark, so sample it; the peak of the sum is
  // the most the whole system occupied at once.
  const pids = [...kids.map((c) => c.pid), up.child.pid as number];
  const peakPss = new Map<number, number>();
  let peakPssTotal = 0;
  const samplePss = (): void => {
    let sum = 0;
    for (const pid of pids) {
      const v = pssMiB(pid);
      sum += v;
      peakPss.set(pid, Math.max(peakPss.get(pid) ?? 0, v));
    }
    peakPssTotal = Math.max(peakPssTotal, sum);
  };
  samplePss();
  const pssTimer = setInterval(samplePss, 200);
  const start = Date.now();
  let next = 0;
  let createErrors = 0;
  await Promise.all(
    Array.from({ length: flags.concurrency }, async () => {
      while (next < flags.pods) {
        const i = next++;
        await client
          .create('/api/v1/namespaces/default/pods', {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `bench-${i}` },
            spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
          })
          .catch(() => createErrors++);
      }
    }),
  );
  const created = (Date.now() - start) / 1000;
  // Give up after five minutes; unref'd so a finished run exits at once.
  await Promise.race([allRunning, new Promise((r) => setTimeout(r, 300_000).unref())]);
  const toRunning = (Date.now() - start) / 1000;
  // Let the batch processors flush what the last pods produced.
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(pssTimer);
  samplePss();
  const spans = receiver.stats().spansAccepted - spansBefore;
  const byName = new Map<string, number>();
  for (const s of receiver.spans()) {
    const k = `${String(s.resource['service.name'])} ${s.name}`;
    byName.set(k, (byName.get(k) ?? 0) + 1);
  }
  const topSpans = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([span, n]) => ({ span, 'per pod': n / flags.pods }));
  const procs = kids.map((c) => ({
    process: c.name,
    'peak RSS MiB': peakRssMiB(c.pid),
    'peak PSS MiB': peakPss.get(c.pid) ?? NaN,
    'CPU s during run': cpuSeconds(c.pid) - (cpuBefore.get(c.pid) ?? 0),
  }));
  const upPid = up.child.pid as number;
  procs.push({ process: 'up (supervisor)', 'peak RSS MiB': peakRssMiB(upPid), 'peak PSS MiB': peakPss.get(upPid) ?? NaN, 'CPU s during run': 0 });
  const totalMiB = procs.reduce((a, p) => a + p['peak RSS MiB'], 0);
  watch.stop();
  client.close();
  await up.stop('SIGINT');
  await receiver.close();

  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version },
    pods: flags.pods,
    nodes: flags.nodes,
    mode: flags.mode,
    startupSeconds,
    running: running.size,
    createErrors,
    createSeconds: created,
    secondsToAllRunning: toRunning,
    podsPerSecond: running.size / toRunning,
    spans,
    spansPerSecond: spans / toRunning,
    spansPerPod: spans / Math.max(1, running.size),
    peakMemory: procs,
    peakMemoryTotalMiB: totalMiB,
    peakPssTotalMiB: peakPssTotal,
    topSpans,
  };
  process.stdout.write(
    `${running.size}/${flags.pods} pods Running in ${toRunning.toFixed(2)} s on ${flags.nodes} nodes (${flags.mode} mode, fast timing): ` +
      `${result.podsPerSecond.toFixed(1)} pods/s, ${result.spansPerSecond.toFixed(0)} spans/s (${result.spansPerPod.toFixed(1)} spans/pod), ` +
      `create errors ${createErrors}; up ready in ${startupSeconds.toFixed(1)} s\n\n`,
  );
  const totalCpu = procs.reduce((a, p) => a + p['CPU s during run'], 0);
  process.stdout.write(
    table([...procs, { process: 'total', 'peak RSS MiB': totalMiB, 'peak PSS MiB': peakPssTotal, 'CPU s during run': totalCpu }]) + '\n' +
      'total peak RSS is the sum of each process\'s high-water mark and counts the shared node binary once per process;\n' +
      'total peak PSS is the highest sampled sum of proportional set sizes: what the system occupied at once.\n',
  );
  process.stdout.write('\n' + table(topSpans) + '\n');
  mkdirSync(join(flags.out, '..'), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`);
  process.exit(1);
});
