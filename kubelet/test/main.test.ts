import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig, type Node } from '../../shared/src/index.js';
import { startFakeApiserver, type FakeApiserver } from '../../shared/src/testing/fake-apiserver.js';
import { freePort, startProcess } from '../../shared/src/testing/index.js';
import { startRuntime, type RuntimeProcess } from './harness.js';

// `k8s-trace-sim kubelet` as a process: flags, start-up errors that must be
// clear, and a clean stop. What the nodes do is covered in lifecycle/e2e.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(server: string): string {
  const path = join(dir, `kc-${Math.random().toString(16).slice(2)}`);
  // Plain http: the fake apiserver speaks cleartext HTTP/2; credentials are not checked.
  writeFileSync(path, renderKubeconfig({ clusterName: 'c', userName: 'u', server, ca: '', cert: '', key: '' }));
  return path;
}

describe('kubelet command', () => {
  it.each([
    [['--nodes', 'many'], 'invalid argument "many" for "--nodes" flag'],
    [['--trace-mode', 'loud', '--kubeconfig', '/x'], 'want story or faithful'],
    [[], '--kubeconfig is required'],
    [['--kubeconfig', '/does/not/exist'], 'invalid kubeconfig /does/not/exist'],
    [['--kubeconfig', '/x', '--kube-version', '1.28'], 'Error: invalid argument "1.28" for "--kube-version" flag: want 1.27 or 1.35'],
    [['--kubeconfig', '/x', '--config', '/does/not/exist.yaml'], 'Error: failed to load kubelet config file, path: /does/not/exist.yaml, error: failed to load Kubelet config file /does/not/exist.yaml'],
    [['--kubeconfig', '/x', '--feature-gates', 'KubeletTracing=false'], 'Error: failed to set feature gates from initial flags-based config: cannot set feature gate KubeletTracing to false, feature is locked to true'],
  ])('%j exits 1 with a clear error', async (args, message) => {
    const p = startProcess(['kubelet', ...args]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(message);
  });

  it('--help lists the real kubelet flag names', async () => {
    const p = startProcess(['kubelet', '--help']);
    expect(await p.exited).toBe(0);
    for (const flag of ['--kubeconfig', '--config', '--feature-gates', '--kube-version', '--background-traffic', '--container-runtime-endpoint', '--hostname-override', '--node-ip', '--max-pods', '--nodes', '--tracing-endpoint']) {
      expect(p.output()).toContain(flag);
    }
  });

  it('fails clearly when the runtime is not there', async () => {
    const p = startProcess(['kubelet', '--kubeconfig', kubeconfig('http://127.0.0.1:1'), '--container-runtime-endpoint', `unix://${dir}/none.sock`, '--apiserver-wait', '1s', '--healthz-port', '0']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`validate CRI v1 runtime API for endpoint "unix://${dir}/none.sock": rpc error: code = Unavailable`);
  });

  describe('with a runtime', () => {
    let runtime: RuntimeProcess;
    let api: FakeApiserver;
    beforeAll(async () => {
      runtime = await startRuntime();
      api = await startFakeApiserver();
    });
    afterAll(async () => {
      await api?.close();
      await runtime?.stop();
    });

    it('fails clearly when the apiserver cannot be reached', async () => {
      const port = await freePort();
      const p = startProcess(['kubelet', '--kubeconfig', kubeconfig(`http://127.0.0.1:${port}`), '--container-runtime-endpoint', runtime.endpoint, '--apiserver-wait', '1s', '--healthz-port', '0']);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`cannot reach the apiserver at http://127.0.0.1:${port}`);
    });

    it('registers its nodes, serves healthz, and stops on SIGTERM', async () => {
      const healthz = await freePort();
      const p = startProcess(['kubelet', '--kubeconfig', kubeconfig(api.url), '--container-runtime-endpoint', runtime.endpoint, '--nodes', '3', '--node-name-prefix', 'sim-', '--healthz-port', String(healthz)]);
      const deadline = Date.now() + 15_000;
      while (api.objects('leases/').length < 3) {
        if (Date.now() > deadline) throw new Error(p.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(api.objects('nodes/').map((n) => n.metadata.name).sort()).toEqual(['sim-1', 'sim-2', 'sim-3']);
      const res = await fetch(`http://127.0.0.1:${healthz}/healthz`);
      expect([res.status, await res.text()]).toEqual([200, 'ok']);
      expect(await p.stop('SIGTERM')).toBe(0);
      expect(p.output()).toContain('received SIGTERM, shutting down');
    });

    it('--kube-version 1.27 with a config file: registers as v1.27.1+k3s1 and logs what decoding forgave', async () => {
      const config = join(dir, 'kubelet-1.27.yaml');
      writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzPort: 0\nmaxPods: 20\nnotAField: 1\n');
      const p = startProcess(['kubelet', '--kubeconfig', kubeconfig(api.url), '--container-runtime-endpoint', runtime.endpoint, '--kube-version', '1.27', '--config', config, '--node-name-prefix', 'old-', '--background-traffic', 'off']);
      const deadline = Date.now() + 15_000;
      while (!api.objects<Node>('nodes/').some((n) => n.metadata.name === 'old-1')) {
        if (Date.now() > deadline) throw new Error(p.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      const node = api.get<Node>('nodes/old-1');
      expect(node?.status?.nodeInfo?.kubeletVersion).toBe('v1.27.1+k3s1');
      expect(node?.status?.capacity?.['pods']).toBe('20');
      const create = api.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/nodes' && (r.body as Node).metadata.name === 'old-1');
      expect(create?.headers['user-agent']).toBe('kubelet/v1.27.1+k3s1 (linux/amd64) kubernetes/bc5b42c');
      expect(await p.stop('SIGTERM')).toBe(0);
      expect(p.output()).toContain('"Using lenient decoding as strict decoding failed" err="strict decoding error: unknown field \\"notAField\\""');
    });
  });
});
