import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { freePort, startProcess, type RunningProcess } from '../../shared/src/testing/index.js';

let procs: RunningProcess[] = [];
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  for (const s of servers) s.close();
  procs = [];
  servers = [];
});

/** Pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startUp(extra: string[] = []): Promise<{ up: RunningProcess; etcdPort: number; otlpPort: number; dataDir: string }> {
  const etcdPort = await freePort();
  const otlpPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'up-'));
  const up = startProcess([
    'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--etcd-port', String(etcdPort), '--otlp-listen', `127.0.0.1:${otlpPort}`,
    '--apiserver-port', String(await freePort()), '--webhook-port', String(await freePort()), '--timing', 'fast', ...extra,
  ]);
  procs.push(up);
  return { up, etcdPort, otlpPort, dataDir };
}

describe('k8s-trace-sim up', () => {
  it('starts each component as its own process, serves etcdctl, and Ctrl-C leaves no process behind', async () => {
    const { up, etcdPort } = await startUp();
    await waitFor(() => up.output().includes('Press Ctrl-C to stop.'), 20_000);
    expect(up.output()).toMatch(new RegExp(`\\n  etcd +http://127\\.0\\.0\\.1:${etcdPort}\\n`));
    const kids = childrenOf(up.child.pid as number);
    // etcd, runtime, webhook, apiserver, scheduler, kubelet: one OS process each.
    expect(kids.length).toBe(6);
    const out = execFileSync('etcdctl', ['--endpoints', `http://127.0.0.1:${etcdPort}`, 'put', 'a', 'b'], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('OK');
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    await waitFor(() => kids.every((k) => !alive(k)), 10_000);
  });

  it('stops everything with a non-zero exit when a component dies', async () => {
    const { up } = await startUp();
    await waitFor(() => up.output().includes('Press Ctrl-C to stop.'), 20_000);
    const kids = childrenOf(up.child.pid as number);
    process.kill(kids[0] as number, 'SIGKILL');
    expect(await up.exited).toBe(1);
    expect(up.output()).toMatch(/(etcd|runtime|webhook|apiserver|scheduler|kubelet) exited unexpectedly/);
    await waitFor(() => kids.every((k) => !alive(k)), 10_000);
  });

  it('refuses a busy port with a clear message and starts nothing', async () => {
    const etcdPort = await freePort();
    const srv = createServer().listen(etcdPort, '127.0.0.1');
    servers.push(srv);
    await new Promise((r) => srv.once('listening', r));
    const dataDir = mkdtempSync(join(tmpdir(), 'up-'));
    const up = startProcess([
      'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--etcd-port', String(etcdPort), '--otlp-listen', `127.0.0.1:${await freePort()}`,
      '--apiserver-port', String(await freePort()), '--webhook-port', String(await freePort()),
    ]);
    procs.push(up);
    expect(await up.exited).toBe(1);
    expect(up.output()).toContain(`address already in use: 127.0.0.1:${etcdPort} (etcd)`);
  });

  it('serves the trace viewer and the /api/v3 query API at the address it prints', async () => {
    const uiPort = await freePort();
    const { up } = await startUp(['--ui-listen', `127.0.0.1:${uiPort}`]);
    await waitFor(() => up.output().includes('Press Ctrl-C to stop.'), 20_000);
    expect(up.output()).toContain(`  viewer     http://127.0.0.1:${uiPort}/`);
    const page = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    let services: string[] = [];
    const end = Date.now() + 15_000;
    const want = ['apiserver', 'etcd', 'kubelet', 'containerd'];
    while (!want.every((w) => services.includes(w)) && Date.now() < end) {
      const res = await fetch(`http://127.0.0.1:${uiPort}/api/v3/services`);
      // Like Jaeger's gateway, an empty list is left out of the JSON.
      services = ((await res.json()) as { services?: string[] }).services ?? [];
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(services).toEqual(expect.arrayContaining(want));
  });

  it('refuses a busy viewer port and starts nothing', async () => {
    const uiPort = await freePort();
    const srv = createServer().listen(uiPort, '127.0.0.1');
    servers.push(srv);
    await new Promise((r) => srv.once('listening', r));
    const { up } = await startUp(['--ui-listen', `127.0.0.1:${uiPort}`]);
    expect(await up.exited).toBe(1);
    expect(up.output()).toContain(`address already in use: 127.0.0.1:${uiPort} (trace viewer; --ui-listen picks another address, off turns it off)`);
  });

  it('kills its children when it is itself killed with SIGKILL', async () => {
    const { up } = await startUp();
    await waitFor(() => up.output().includes('Press Ctrl-C to stop.'), 20_000);
    const kids = childrenOf(up.child.pid as number);
    expect(kids.length).toBe(6);
    up.child.kill('SIGKILL');
    await waitFor(() => kids.every((k) => !alive(k)), 10_000);
  });

  it.each([
    [['--timing', 'slow'], 'invalid --timing "slow": want realistic or fast'],
    [['--mode', 'fancy'], 'invalid --mode "fancy": want story or faithful'],
    [['--nodes', '0'], 'invalid --nodes 0'],
    [['--nodes', 'two'], 'invalid argument "two" for "--nodes" flag'],
  ])('rejects %j', async (args, msg) => {
    const up = startProcess(['up', ...args]);
    procs.push(up);
    expect(await up.exited).toBe(1);
    expect(up.output()).toContain(msg);
  });
});
