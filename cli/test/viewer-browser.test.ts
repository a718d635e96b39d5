/**
 * The viewer in a real browser (Debian's chromium, driven by playwright-core): start the
 * simulator with the viewer on, create pods with kubectl, find the creation trace in the list,
 * open its waterfall, check names, nesting and service colours, click a span and check its
 * attributes, and see a new trace arrive live. Skipped only where /usr/bin/chromium is absent
 * (CI installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';

// The page functions below run in the browser; this project compiles without the DOM library.
declare const getComputedStyle: (e: unknown) => { backgroundColor: string; paddingLeft: string };

const CHROMIUM = '/usr/bin/chromium';
const POD = 'viewer-demo';
const BAD_POD = 'viewer-bad-image';

interface Summary {
  traceId: string;
  rootServiceName?: string;
  rootOperationName?: string;
  spanCount?: number;
  errorSpanCount?: number;
  services?: Array<{ name: string }>;
}
interface JsonKv {
  key: string;
  value: Record<string, unknown>;
}
interface JsonSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: JsonKv[];
}

const procs: RunningProcess[] = [];
let browser: Browser | undefined;
let page: Page;
let ui = '';
let kubeconfig = '';
const pageErrors: string[] = [];
const shots = mkdtempSync(join(tmpdir(), 'viewer-'));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The newest trace whose spans name the pod and come from every component (its creation, complete). */
async function creationTrace(pod: string): Promise<Summary> {
  const now = Date.now();
  const q = new URLSearchParams({
    'query.start_time_min': new Date(now - 600_000).toISOString(),
    'query.start_time_max': new Date(now + 60_000).toISOString(),
    'query.attributes': JSON.stringify({ name: pod }),
    'query.search_depth': '50',
  });
  return waitFor(
    `the creation trace of ${pod}`,
    async () => {
      const res = await fetch(`${ui}/api/v3/trace-summaries?${q}`);
      const body = (await res.json()) as { summaries?: Summary[] };
      return (body.summaries ?? []).find((s) => ['apiserver', 'webhook', 'etcd', 'kubelet', 'containerd'].every((n) => s.services?.some((x) => x.name === n)));
    },
    60_000,
  );
}

afterAll(async () => {
  for (const p of procs.splice(0).reverse()) await p.stop('SIGTERM', 10_000);
}, 60_000);

const kubectl = (args: string[], input?: string): string =>
  execFileSync('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', input, timeout: 60_000 });

describe.skipIf(!existsSync(CHROMIUM))('viewer in a browser', () => {
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'viewer-up-'));
    kubeconfig = join(dataDir, 'kubeconfig');
    const [otlpPort, uiPort] = [await freePort(), await freePort()];
    const upArgs = [
      'up', '--data-dir', dataDir, '--timing', 'fast', '--background-traffic', 'low', '--print-traces', 'false',
      '--etcd-port', String(await freePort()), '--apiserver-port', String(await freePort()), '--webhook-port', String(await freePort()),
    ];
    ui = `http://127.0.0.1:${uiPort}`;
    const up = startProcess([...upArgs, '--otlp-listen', `127.0.0.1:${otlpPort}`, '--ui-listen', `127.0.0.1:${uiPort}`]);
    procs.push(up);
    await waitFor('up to be ready', async () => (up.output().includes('Press Ctrl-C to stop.') ? true : undefined), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${up.output()}`);
    });
    await waitForListen({ host: '127.0.0.1', port: uiPort });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows a pod creation trace as a waterfall, nested, coloured by service, with span details', async () => {
    kubectl(['run', POD, '--image=nginx']);
    const trace = await creationTrace(POD);

    await page.goto(`${ui}/`);
    // The legend lists every service, each in its own colour.
    const legend = page.locator('#legend .svc');
    await expect.poll(() => legend.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
    const colours = await page.$$eval('#legend .svc', (els) =>
      Object.fromEntries(els.map((e) => [e.getAttribute('data-service'), getComputedStyle(e.querySelector('.swatch')).backgroundColor])),
    );
    for (const s of ['apiserver', 'webhook', 'etcd', 'kubelet', 'containerd']) expect(colours[s], s).toBeTruthy();
    expect(new Set(Object.values(colours)).size).toBe(Object.keys(colours).length);

    // Find it: the search box sends name=<pod> to the server as query.attributes.
    await page.fill('#q', `name=${POD}`);
    const row = page.locator(`#traces tbody tr[data-trace-id="${trace.traceId}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('td.root').textContent()).toBe(trace.rootOperationName);
    expect(Number(await row.locator('td.spans').textContent())).toBe(trace.spanCount);
    await row.click();

    const rows = page.locator('#waterfall .span-row');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(trace.spanCount);
    const shown = await page.$$eval('#waterfall .span-row', (els) =>
      els.map((e) => ({
        id: e.getAttribute('data-span-id') ?? '',
        parent: e.getAttribute('data-parent-span-id') ?? '',
        service: e.getAttribute('data-service') ?? '',
        depth: Number(e.getAttribute('data-depth')),
        name: e.querySelector('.name')?.textContent ?? '',
        indent: parseFloat(getComputedStyle(e.querySelector('.label')).paddingLeft),
        bar: getComputedStyle(e.querySelector('.bar')).backgroundColor,
      })),
    );
    // Nesting: each span sits right under its parent's subtree, one level deeper, and is drawn so.
    for (const [i, r] of shown.entries()) {
      if (r.depth === 0) continue;
      const parent = shown.slice(0, i).reverse().find((p) => p.depth === r.depth - 1);
      expect(parent?.id, `${r.name} under its parent`).toBe(r.parent);
      expect(r.indent).toBeGreaterThan(parent!.indent);
    }
    const byName = (name: string, service: string) => shown.filter((r) => r.name === name && r.service === service);
    const parentOf = (r: { parent: string }) => shown.find((p) => p.id === r.parent);
    const [post] = byName('POST /api/v1/namespaces/{:namespace}/pods', 'apiserver');
    expect(post).toBeTruthy();
    const [mutate] = byName('/mutate-v1-pod', 'webhook');
    expect(parentOf(mutate!)?.name).toBe('HTTP POST');
    expect(parentOf(parentOf(mutate!)!)?.name).toBe('Call mutating webhook');
    for (const r of byName('etcdserverpb.KV/Txn', 'etcd')) expect(parentOf(r)).toMatchObject({ name: 'etcdserverpb.KV/Txn', service: 'apiserver' });
    const [sync] = byName('syncPod', 'kubelet');
    expect(sync).toBeTruthy();
    const [sandbox] = byName('runtime.v1.RuntimeService/RunPodSandbox', 'containerd');
    expect(parentOf(sandbox!)).toMatchObject({ name: 'runtime.v1.RuntimeService/RunPodSandbox', service: 'kubelet', parent: sync!.id });
    // Colours: every bar in its service's legend colour.
    for (const r of shown) expect(r.bar, `${r.service}: ${r.name}`).toBe(colours[r.service]);
    expect(new Set(shown.map((r) => r.service))).toEqual(new Set(['apiserver', 'webhook', 'etcd', 'kubelet', 'containerd']));

    // Click the apiserver's Create span of the scheduler's binding: its attributes are the ones received.
    const ancestors = (r: (typeof shown)[number]): string[] => {
      const out: string[] = [];
      for (let p = parentOf(r); p; p = parentOf(p)) out.push(p.name);
      return out;
    };
    const create = shown.find((r) => r.name === 'Create' && ancestors(r).includes('POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding'));
    expect(create).toBeTruthy();
    await page.click(`#waterfall .span-row[data-span-id="${create!.id}"]`);
    const detail = page.locator(`#span-detail[data-span-id="${create!.id}"]`);
    await detail.waitFor();
    expect(await detail.locator('.span-name').textContent()).toBe('Create');
    const attrs = Object.fromEntries(
      await page.$$eval('#span-detail table.attributes tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelector('td.value')?.textContent ?? ''])),
    );
    expect(attrs).toMatchObject({ name: POD, namespace: 'default', resource: 'pods', subresource: 'binding', verb: 'POST' });
    const api = (await (await fetch(`${ui}/api/v3/traces/${trace.traceId}?raw_traces=true`)).json()) as {
      result: { resourceSpans: Array<{ scopeSpans: Array<{ spans: JsonSpan[] }> }> };
    };
    const sent = api.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).find((s) => s.spanId === create!.id);
    expect(Object.keys(attrs).sort()).toEqual((sent?.attributes ?? []).map((a) => a.key).sort());
    expect(await page.locator('#span-detail table.resource tr[data-key="service.name"] td.value').textContent()).toBe('apiserver');

    const shot = join(shots, 'viewer.png');
    await page.screenshot({ path: shot });
    console.log(`viewer screenshot: ${shot}`);
  }, 180_000);

  it('shows a new trace live, with its error spans marked', async () => {
    // The page stays open: the list must update by itself. An invalid image reference fails the
    // pull, so syncPod and both PullImage spans end in Error.
    await page.fill('#q', `name=${BAD_POD}`);
    await expect.poll(() => page.locator('#list-status').textContent(), { timeout: 10_000 }).toMatch(/^0 of the 0 /);
    kubectl(['create', '-f', '-'], `apiVersion: v1\nkind: Pod\nmetadata: {name: ${BAD_POD}}\nspec:\n  containers: [{name: c, image: "Not/Valid:Image"}]\n`);
    const trace = await creationTrace(BAD_POD);
    expect(trace.errorSpanCount).toBeGreaterThan(0);
    const row = page.locator(`#traces tbody tr[data-trace-id="${trace.traceId}"]`);
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => row.locator('td.errors').textContent(), { timeout: 10_000 }).toBe(String(trace.errorSpanCount));
    await row.click();
    await expect.poll(() => page.locator('#waterfall .span-row').count(), { timeout: 20_000 }).toBe(trace.spanCount);
    const errors = await page.$$eval('#waterfall .span-row.error', (els) =>
      els.map((e) => ({ name: e.querySelector('.name')?.textContent, mark: e.querySelector('.err-mark') !== null, service: e.getAttribute('data-service') })),
    );
    expect(errors).toHaveLength(trace.errorSpanCount!);
    expect(errors.every((e) => e.mark)).toBe(true);
    expect(errors).toContainEqual({ name: 'syncPod', mark: true, service: 'kubelet' });
    expect(errors).toContainEqual({ name: 'runtime.v1.ImageService/PullImage', mark: true, service: 'containerd' });
    await page.click('#waterfall .span-row.error[data-service="containerd"]');
    await expect.poll(() => page.locator('#span-detail .span-status').textContent()).toMatch(/^ERROR/);
    const shot = join(shots, 'viewer-error.png');
    await page.screenshot({ path: shot });
    console.log(`viewer screenshot: ${shot}`);
  }, 180_000);
});

describe('collector --ui-listen', () => {
  it('serves the viewer and /api/v3 next to the receiver, and refuses a busy port with a non-zero exit', async () => {
    const [otlpPort, uiPort] = [await freePort(), await freePort()];
    const collector = startProcess(['collector', '--listen', `127.0.0.1:${otlpPort}`, '--ui-listen', `127.0.0.1:${uiPort}`]);
    procs.push(collector);
    await waitForListen({ host: '127.0.0.1', port: uiPort });
    expect(collector.output()).toContain(`trace viewer and Jaeger /api/v3 at http://127.0.0.1:${uiPort}/`);
    const services = await fetch(`http://127.0.0.1:${uiPort}/api/v3/services`);
    expect([services.status, await services.text()]).toEqual([200, '{}']);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');

    const busy = startProcess(['collector', '--listen', `127.0.0.1:${await freePort()}`, '--ui-listen', `127.0.0.1:${uiPort}`]);
    procs.push(busy);
    expect(await busy.exited).toBe(1);
    expect(busy.output()).toContain(`Error: cannot listen on 127.0.0.1:${uiPort} (viewer): address already in use`);
    expect(await collector.stop()).toBe(0);
  });

  it('refuses a bad address before listening anywhere', async () => {
    const otlpPort = await freePort();
    const bad = startProcess(['collector', '--listen', `127.0.0.1:${otlpPort}`, '--ui-listen', 'localhost']);
    procs.push(bad);
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('invalid address "localhost": want host:port');
    // Nothing was left listening on the OTLP port.
    const probe = createServer().listen(otlpPort, '127.0.0.1');
    await new Promise((r, j) => probe.once('listening', r).once('error', j));
    probe.close();
  });
});
