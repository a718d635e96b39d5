import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig, type Pod } from '../../shared/src/index.js';
import { startFakeApiserver, type FakeApiserver } from '../../shared/src/testing/fake-apiserver.js';
import { freePort, startProcess } from '../../shared/src/testing/index.js';
import { node, pod } from './fixtures.js';

// `k8s-trace-sim scheduler` as a process: flags, a clear start-up error, and
// binding a pod against an in-memory apiserver until SIGTERM.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheduler-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(server: string): string {
  const path = join(dir, `kc-${Math.random().toString(16).slice(2)}`);
  writeFileSync(path, renderKubeconfig({ clusterName: 'c', userName: 'u', server, ca: '', cert: '', key: '' }));
  return path;
}

describe('scheduler command', () => {
  it.each([
    [['--kubeconfig', '/x', '--trace-mode', 'loud'], 'invalid argument "loud" for "--trace-mode" flag'],
    [[], '--kubeconfig is required'],
    [['--kubeconfig', '/x', '--leader-elect=maybe'], 'invalid argument "maybe" for "--leader-elect" flag'],
    [['--kubeconfig', '/does/not/exist'], 'invalid kubeconfig /does/not/exist'],
  ])('%j exits 1 with a clear error', async (args, message) => {
    const p = startProcess(['scheduler', ...args]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(message);
  });

  it('fails clearly when the apiserver cannot be reached', async () => {
    const port = await freePort();
    const p = startProcess(['scheduler', '--kubeconfig', kubeconfig(`http://127.0.0.1:${port}`), '--apiserver-wait', '1s']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`cannot reach the apiserver at http://127.0.0.1:${port}`);
  });

  describe('against an apiserver', () => {
    let api: FakeApiserver;
    beforeAll(async () => {
      api = await startFakeApiserver();
    });
    afterAll(async () => api?.close());

    it('binds pending pods with --leader-elect=false and stops on SIGTERM', async () => {
      api.put('nodes/n1', node('n1'));
      api.put('pods/default/a', pod('a'));
      const p = startProcess(['scheduler', '--kubeconfig', kubeconfig(api.url), '--leader-elect=false', '--v', '2']);
      const deadline = Date.now() + 15_000;
      while (!api.get<Pod>('pods/default/a')?.spec.nodeName) {
        if (Date.now() > deadline) throw new Error(p.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(api.get<Pod>('pods/default/a')?.spec.nodeName).toBe('n1');
      // The scheduler logs once the binding's response is back, a moment after the fake stored it.
      const logged = '"Successfully bound pod to node" pod="default/a" node="n1"';
      while (!p.output().includes(logged)) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(p.output()).toContain(logged);
      expect(await p.stop('SIGTERM')).toBe(0);
    });
  });
});
