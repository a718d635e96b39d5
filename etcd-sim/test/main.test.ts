import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { EtcdClient } from './etcd-client.js';

const procs: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
const run = (args: string[]): RunningProcess => {
  const p = startProcess(['etcd', ...args]);
  procs.push(p);
  return p;
};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'etcd-sim-main-'));
const logLines = (p: RunningProcess): Record<string, unknown>[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('k8s-trace-sim etcd (the process)', () => {
  it('logs like etcd, serves, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const p = run(['--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', tmp()]);
    await waitForListen({ host: '127.0.0.1', port });
    const c = new EtcdClient(`127.0.0.1:${port}`);
    await c.put('/k', 'v');
    c.close();
    expect(await p.stop('SIGTERM')).toBe(0);
    const lines = logLines(p);
    expect(lines.find((l) => l['msg'] === 'serving client traffic insecurely; this is strongly discouraged!')).toMatchObject({ level: 'info', address: `127.0.0.1:${port}` });
    expect(lines.every((l) => typeof l['level'] === 'string' && typeof l['ts'] === 'string')).toBe(true);
    expect(lines.at(-1)?.['msg']).toBe('stopped etcd-sim');
  });

  it('--help prints the flags and exits 0', async () => {
    const p = run(['--help']);
    expect(await p.exited).toBe(0);
    for (const f of ['--listen-client-urls', '--data-dir', '--unsafe-no-fsync', '--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-sampling-rate']) {
      expect(p.output()).toContain(f);
    }
  });

  it.each([
    [['--listen-client-urls', 'https://127.0.0.1:2379'], 'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme'],
    [['--experimental-distributed-tracing-sampling-rate', '2000000'], 'tracing sampling rate must be less than 1000000'],
    [['--max-txn-ops', 'many'], 'invalid argument "many" for "--max-txn-ops" flag'],
  ])('%j fails with a clear message', async (args, message) => {
    const p = run([...args, '--data-dir', tmp()]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(message);
  });

  it('a busy port is a clear error and exit 1, and the data dir is released', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const dir = tmp();
    try {
      const p = run(['--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dir]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`listen tcp 127.0.0.1:${port}: bind: address already in use`);
    } finally {
      blocker.close();
    }
    const free = await freePort();
    run(['--listen-client-urls', `http://127.0.0.1:${free}`, '--data-dir', dir]);
    await waitForListen({ host: '127.0.0.1', port: free });
  });

  it('a data dir held by a live etcd-sim is refused', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const dir = tmp();
    run(['--listen-client-urls', `http://127.0.0.1:${a}`, '--data-dir', dir]);
    await waitForListen({ host: '127.0.0.1', port: a });
    const second = run(['--listen-client-urls', `http://127.0.0.1:${b}`, '--data-dir', dir]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/data dir .* is in use by process \d+/);
  });
});
