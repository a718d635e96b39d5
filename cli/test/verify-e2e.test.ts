import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mergeManifest, parseManifest, type ExpectedTrace } from '../../shared/src/manifest.js';
import { freePort, startLossyOtlpProxy, startProcess, waitForListen, type LossyOtlpProxy, type RunningProcess } from '../../shared/src/testing/index.js';

/**
 * The acceptance of `verify`: a real `up` run whose processes record what they
 * export in the manifest, sending through a proxy to the receiver of
 * `k8s-trace-sim collector`, whose query API verify reads. With nothing
 * dropped every trace is found; with spans dropped between send and receipt
 * (the proxy answers success, so the senders never know) exactly the traces
 * that lost spans are reported, missing or partial.
 */

const KUBECTL = '/usr/bin/kubectl';
const exec = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let collector: RunningProcess | undefined;
let up: RunningProcess | undefined;
let proxy: LossyOtlpProxy | undefined;
let dataDir = '';
let home = '';
let queryUrl = '';

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec(KUBECTL, ['--cache-dir', join(home, 'cache'), ...args], {
    env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') },
    timeout: 60_000,
  });
  return stdout;
}

function manifestTraces(path: string): ExpectedTrace[] {
  return mergeManifest(parseManifest(readFileSync(path, 'utf8'), path));
}

/** Waits until the kubelet has exported the pod's first syncPod, then lets the other processes' batches follow. */
async function waitForSyncPod(pod: string): Promise<void> {
  const file = join(dataDir, 'sent.jsonl');
  const deadline = Date.now() + 60_000;
  while (!manifestTraces(file).some((t) => t.spans.some((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === pod))) {
    if (Date.now() > deadline) throw new Error(`no syncPod for ${pod} in the manifest:\n${up?.output()}`);
    await sleep(250);
  }
  await sleep(1500);
}

/** The manifest as it is now, frozen, so verify and the test judge the same lines. */
function snapshot(name: string): string {
  const path = join(dataDir, name);
  copyFileSync(join(dataDir, 'sent.jsonl'), path);
  return path;
}

async function verify(args: string[]): Promise<{ code: number | string; out: string; report: any }> {
  const p = startProcess(['verify', '--query', queryUrl, '--output', 'json', ...args]);
  const code = await p.exited;
  const out = p.output();
  const start = out.indexOf('{');
  return { code, out, report: start >= 0 ? JSON.parse(out.slice(start)) : undefined };
}

describe.skipIf(!existsSync(KUBECTL))('verify against a real run', () => {
  beforeAll(async () => {
    const otlpPort = await freePort();
    const uiPort = await freePort();
    collector = startProcess(['collector', '--listen', `127.0.0.1:${otlpPort}`, '--ui-listen', `127.0.0.1:${uiPort}`]);
    await waitForListen({ host: '127.0.0.1', port: otlpPort });
    await waitForListen({ host: '127.0.0.1', port: uiPort });
    queryUrl = `http://127.0.0.1:${uiPort}`;
    proxy = await startLossyOtlpProxy({ upstream: `127.0.0.1:${otlpPort}` });
    dataDir = mkdtempSync(join(tmpdir(), 'verify-up-'));
    home = mkdtempSync(join(tmpdir(), 'verify-home-'));
    up = startProcess(
      [
        'up', '--data-dir', dataDir, '--timing', 'fast', '--background-traffic', 'off', '--print-traces=false',
        '--apiserver-port', String(await freePort()), '--etcd-port', String(await freePort()), '--webhook-port', String(await freePort()),
        '--otlp-endpoint', proxy.endpoint,
      ],
      // up records every export in <data-dir>/sent.jsonl by itself; set here too so the test does not depend on the default.
      { env: { OTEL_BSP_SCHEDULE_DELAY: '200', K8S_TRACE_SIM_SENT_FILE: join(dataDir, 'sent.jsonl') } },
    );
    const ready = Date.now() + 60_000;
    while (!up.output().includes('Press Ctrl-C to stop.')) {
      if (Date.now() > ready || up.child.exitCode !== null) throw new Error(`up is not ready:\n${up.output()}`);
      await sleep(200);
    }
  }, 120_000);

  afterAll(async () => {
    await up?.stop('SIGINT');
    await proxy?.close();
    await collector?.stop();
  });

  it('finds every trace of a pod creation when nothing is lost (exit 0)', async () => {
    expect(await kubectl('run', 'demo-1', '--image=nginx')).toBe('pod/demo-1 created\n');
    await waitForSyncPod('demo-1');
    const manifest = snapshot('sent-1.jsonl');
    const traces = manifestTraces(manifest);
    // Every traced process wrote its part.
    expect(new Set(traces.flatMap((t) => t.services))).toEqual(new Set(['apiserver', 'etcd', 'webhook', 'kubelet', 'containerd']));
    const spans = traces.reduce((n, t) => n + t.spans.length, 0);

    const { code, out, report } = await verify(['--manifest', manifest, '--timeout', '20s']);
    expect(code, out).toBe(0);
    expect(report.summary).toMatchObject({ traces: traces.length, found: traces.length, spansSent: spans, spansFound: spans, lossPercent: 0, ok: true });
    expect(report.summary.latency.count).toBe(traces.length);
    // The pod's creation is one story-mode tree across five services.
    const creationId = traces.find((t) => t.spans.some((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'demo-1'))?.traceId;
    const creation = report.traces.find((t: any) => t.traceId === creationId);
    expect(creation).toMatchObject({ status: 'found', services: ['apiserver', 'containerd', 'etcd', 'kubelet', 'webhook'] });
    expect(creation.root.name).toBe('authentication');
    expect(creation.foundSpans).toBeGreaterThan(20);
    expect(proxy?.dropped()).toEqual([]);
  }, 120_000);

  it('reports exactly the traces that lost spans between send and receipt (exit 1)', async () => {
    const since = new Date();
    // Every etcd span, and whole traces: those whose id ends in an even hex digit.
    proxy?.setDrop((s) => s.service === 'etcd' || parseInt(s.traceId.slice(-1), 16) % 2 === 0);
    // Enough traffic that each outcome is all but certain: ~16 traces with etcd spans (partial unless
    // wholly dropped), and a few dozen in all (half of them wholly dropped).
    for (const pod of ['demo-2', 'demo-3']) expect(await kubectl('run', pod, '--image=nginx')).toBe(`pod/${pod} created\n`);
    for (let i = 0; i < 3; i++) await kubectl('get', 'pods');
    await waitForSyncPod('demo-2');
    await waitForSyncPod('demo-3');
    const manifest = snapshot('sent-2.jsonl');
    const dropped = new Set(proxy?.dropped().map((s) => s.spanId));

    // What verify must say, from the manifest and the proxy's own record of what it dropped.
    const want = new Map<string, { status: string; missing: string[] }>();
    for (const t of manifestTraces(manifest).filter((x) => x.lastSentAt >= since.getTime())) {
      const lost = t.spans.filter((s) => dropped.has(s.spanId)).map((s) => s.spanId);
      want.set(t.traceId, { status: lost.length === 0 ? 'found' : lost.length === t.spans.length ? 'missing' : 'partial', missing: lost.sort() });
    }
    const statuses = [...want.values()].map((w) => w.status);
    // The run must have produced each kind, or the test would prove nothing.
    expect(statuses).toContain('missing');
    expect(statuses).toContain('partial');
    expect(statuses).toContain('found');

    const { code, out, report } = await verify(['--manifest', manifest, '--since', since.toISOString(), '--timeout', '3s']);
    expect(code, out).toBe(1);
    const got = new Map<string, { status: string; missing: string[] }>(
      report.traces.map((t: any) => [t.traceId, { status: t.status, missing: t.missingSpans.map((s: any) => s.spanId).sort() }]),
    );
    expect(got).toEqual(want);
    const lostSpans = [...want.values()].reduce((n, w) => n + w.missing.length, 0);
    expect(report.summary.spansSent - report.summary.spansFound).toBe(lostSpans);
    expect(report.summary.ok).toBe(false);
  }, 120_000);
});
