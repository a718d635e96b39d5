/**
 * A real cluster at 100% sampling shows constant root traces (§10 tell 13):
 * PLEG relists about every second, a lease renewal and a node-status check
 * every 10 s per node, the apiserver's health probes, the events. `up`
 * emits them by default. `--background-traffic off` silences the kubelet,
 * containerd and the probes; the apiserver, which traces every request it
 * serves, still shows the lease renewals and node-status checks every node
 * needs to stay Ready.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backgroundTells, formatViolations, freePort, readOtlpJsonLines, startProcess, type FileSpan, type TellSpan } from '../../shared/src/testing/index.js';

const toTell = (s: FileSpan): TellSpan => ({
  traceId: s.traceId,
  spanId: s.spanId,
  parentSpanId: s.parentSpanId,
  name: s.name,
  kind: s.kind,
  startTimeUnixNano: s.start,
  endTimeUnixNano: s.end,
  attributes: s.attributes as TellSpan['attributes'],
  events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.time, attributes: e.attributes as TellSpan['attributes'] })),
  links: s.links.map((l) => ({ ...l, attributes: {} })),
  status: s.status,
  resource: s.resource as TellSpan['resource'],
  scope: s.scope,
});

/** Starts `up`, waits until it is ready, lets it run `seconds`, and returns the spans that started in that window. */
async function window(background: string, seconds: number): Promise<FileSpan[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `bg-${background}-`));
  const tracesFile = join(dataDir, 'traces.jsonl');
  const up = startProcess(
    [
      'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast', '--nodes', '2', '--background-traffic', background, '--print-traces=false',
      '--apiserver-port', String(await freePort()), '--etcd-port', String(await freePort()), '--webhook-port', String(await freePort()),
      '--otlp-listen', `127.0.0.1:${await freePort()}`, '--traces-file', tracesFile,
    ],
    { env: { OTEL_BSP_SCHEDULE_DELAY: '200' } },
  );
  try {
    const end = Date.now() + 40_000;
    while (!up.output().includes('Press Ctrl-C to stop.')) {
      if (Date.now() > end || up.child.exitCode !== null) throw new Error(`up did not start:\n${up.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const from = BigInt(Date.now()) * 1_000_000n;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const to = BigInt(Date.now()) * 1_000_000n;
    await new Promise((r) => setTimeout(r, 1000));
    return readOtlpJsonLines(tracesFile).filter((s) => s.start >= from && s.start < to);
  } finally {
    await up.stop('SIGINT');
  }
}

describe('background traffic', () => {
  it('full (the default): relists, leases, node status and probes at a real cluster\'s rates', async () => {
    const spans = await window('full', 12);
    expect(formatViolations(backgroundTells(spans.map(toTell), 12))).toBe(formatViolations([]));
    // The probes are plain GETs from the node's prober: apiserver roots with no link.
    const probes = spans.filter((s) => s.service === 'apiserver' && s.kind === 2 && /^\/(livez|readyz)/.test(String(s.attributes['url.path'] ?? '')));
    expect(probes.length).toBeGreaterThanOrEqual(10);
    for (const p of probes) expect(p.links).toEqual([]);
  }, 90_000);

  it('off: the kubelet, containerd and the probes are silent; the apiserver still records the requests that keep nodes Ready', async () => {
    const spans = await window('off', 12);
    const kubeletRoots = spans.filter((s) => s.service === 'kubelet' && s.parentSpanId === '');
    expect(kubeletRoots.map((s) => s.name)).toEqual([]);
    expect(spans.filter((s) => s.service === 'containerd').map((s) => s.name)).toEqual([]);
    const requests = spans.filter((s) => s.service === 'apiserver' && s.kind === 2).map((s) => String(s.attributes['url.path']));
    // No probes; the lease renewals every node needs are still served, and recorded, by the apiserver.
    expect(requests.filter((p) => /^\/(livez|readyz|healthz)/.test(p))).toEqual([]);
    for (const node of ['node-1', 'node-2']) expect(requests).toContain(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`);
  }, 90_000);
});
