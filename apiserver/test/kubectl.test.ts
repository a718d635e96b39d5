import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../shared/src/index.js';
import { PROFILE_1_27, PROFILE_1_35 } from '../src/profile.js';
import { pki, request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';

// kubectl (the Cloud SDK dispatcher) against this apiserver alone, as
// protocols.md §4 describes it: a throwaway HOME and cache dir, a
// system:masters client certificate. The dispatcher picks kubectl by the
// server's minor: the 1.27 profile gets the real kubectl 1.27.16; for 1.35 no
// kubectl.1.35 exists, so it runs its built-in 1.32.4.
const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = existsSync(KUBECTL);

const RELEASES = [
  { profile: PROFILE_1_35, client: 'v1.32.4-dispatcher' },
  { profile: PROFILE_1_27, client: 'v1.27.16' },
];

describe.skipIf(!haveKubectl).each(RELEASES)('kubectl $client against the $profile.name apiserver', ({ profile, client }) => {
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  let api: TestApiserver;
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    etcd = await startEtcd();
    api = await startTestApiserver(etcd.port, { config: { profile } });
    home = mkdtempSync(join(tmpdir(), 'apiserver-kubectl-'));
    const p = await pki();
    const kubeconfig = join(home, 'config');
    writeFileSync(kubeconfig, renderKubeconfig({ clusterName: 'sim', userName: 'kubernetes-admin', server: api.url, ca: p.ca.cert, cert: p.admin.cert, key: p.admin.key }));
    env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig };
  });
  afterAll(async () => {
    await api?.close();
    etcd?.client.close();
    await etcd?.proc.stop();
  });

  function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(KUBECTL, [...args, `--cache-dir=${join(home, 'cache')}`], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  function file(name: string, text: string): string {
    const p = join(home, name);
    writeFileSync(p, text);
    return p;
  }

  const POD_YAML = (name: string, label: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${label}
spec:
  containers:
  - name: main
    image: nginx:1.27
`;

  describe('commands', () => {
    it('version and an empty namespace', async () => {
      const v = await kubectl('version', '-o', 'json');
      const versions = JSON.parse(v.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
      expect(versions.clientVersion.gitVersion).toBe(client);
      expect(versions.serverVersion.gitVersion).toBe(profile.versionInfo['gitVersion']);
      const empty = await kubectl('get', 'pods');
      expect(empty.code).toBe(0);
      expect(empty.stderr).toContain('No resources found in default namespace.');
    });

    it('run, get, get -o wide, describe', async () => {
      const run = await kubectl('run', 'nginx', '--image=nginx');
      expect(run.stdout.trim()).toBe('pod/nginx created');
      const get = await kubectl('get', 'pods');
      const lines = get.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      expect(lines[1]).toMatch(/^nginx\s+0\/1\s+Pending\s+0\s+\d+s$/);
      const wide = await kubectl('get', 'pods', '-o', 'wide');
      expect(wide.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
      expect(wide.stdout.split('\n')[1]).toMatch(/<none>\s+<none>\s+<none>\s+<none>$/);
      const describe = await kubectl('describe', 'pod', 'nginx');
      expect(describe.code).toBe(0);
      expect(describe.stdout).toMatch(/^Name:\s+nginx$/m);
      expect(describe.stdout).toMatch(/^Namespace:\s+default$/m);
      expect(describe.stdout).toMatch(/^Status:\s+Pending$/m);
      expect(describe.stdout).toMatch(/Image:\s+nginx/);
    });

    it('create -f and apply -f (new, then changed)', async () => {
      const created = await kubectl('create', '-f', file('web.yaml', POD_YAML('web', 'web')));
      expect(created.stderr).toBe('');
      expect(created.stdout.trim()).toBe('pod/web created');
      const applied = await kubectl('apply', '-f', file('app.yaml', POD_YAML('app', 'v1')));
      expect(applied.stdout.trim()).toBe('pod/app created');
      const reapplied = await kubectl('apply', '-f', file('app.yaml', POD_YAML('app', 'v2')));
      expect(reapplied.stdout.trim()).toBe('pod/app configured');
      const labels = await kubectl('get', 'pod', 'app', '-o', 'jsonpath={.metadata.labels.app}');
      expect(labels.stdout).toBe('v2');
      const unchanged = await kubectl('apply', '-f', file('app.yaml', POD_YAML('app', 'v2')));
      expect(unchanged.stdout.trim()).toBe('pod/app unchanged');
    });

    it('nodes, namespaces and -o wide columns', async () => {
      await request(api.url, 'POST', '/api/v1/nodes', {
        body: {
          metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
          status: {
            conditions: [{ type: 'Ready', status: 'True' }],
            addresses: [{ type: 'InternalIP', address: '172.18.0.2' }],
            nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://2.1.4' },
          },
        },
      });
      const nodes = await kubectl('get', 'nodes', '-o', 'wide');
      expect(nodes.stdout.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
      expect(nodes.stdout.split('\n')[1]).toMatch(/^node-1\s+Ready\s+control-plane\s+\d+s\s+v1.32.4\s+172.18.0.2\s+<none>\s+Debian GNU\/Linux 12 \(bookworm\)\s+6.1.0\s+containerd:\/\/2.1.4$/);
      const ns = await kubectl('get', 'ns');
      expect(ns.stdout).toMatch(/^kube-node-lease\s+Active\s+\d+s$/m);
    });

    it('named groups and events through discovery: leases, webhook configurations, events', async () => {
      await request(api.url, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', {
        body: { metadata: { name: 'node-1' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } },
      });
      await request(api.url, 'POST', '/api/v1/namespaces/default/events', {
        body: { metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Scheduled', message: 'Successfully assigned default/web to node-1', type: 'Normal', source: { component: 'default-scheduler' } },
      });
      const leases = await kubectl('get', 'leases', '-A');
      expect(leases.stdout).toMatch(/^NAMESPACE\s+NAME\s+HOLDER\s+AGE$/m);
      expect(leases.stdout).toMatch(/^kube-node-lease\s+node-1\s+node-1\s+\d+s$/m);
      const events = await kubectl('get', 'events');
      expect(events.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
      expect(events.stdout).toMatch(/Normal\s+Scheduled\s+pod\/web\s+Successfully assigned default\/web to node-1/);
      const hooks = await kubectl('get', 'mutatingwebhookconfigurations');
      expect(hooks.code).toBe(0);
      expect(hooks.stderr).toContain('No resources found');
    });

    it('get -w prints rows as pods come and go', async () => {
      const w = spawn(KUBECTL, ['get', 'pods', '-w', `--cache-dir=${join(home, 'cache')}`], { env });
      let out = '';
      w.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const until = async (re: RegExp): Promise<void> => {
        const deadline = Date.now() + 20_000;
        while (!re.test(out)) {
          if (Date.now() > deadline) throw new Error(`kubectl get -w printed:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      try {
        await until(/^nginx\s/m);
        await kubectl('run', 'watched', '--image=busybox');
        await until(/^watched\s+0\/1\s+Pending/m);
        await kubectl('delete', 'pod', 'watched', '--wait=false');
        await until(/^watched\s+0\/1\s+Terminating/m);
      } finally {
        w.kill();
      }
    });

    it('delete waits for the pod to be gone; errors are kubectl-shaped', async () => {
      const del = await kubectl('delete', 'pod', 'nginx');
      expect(del.stdout.trim()).toBe('pod "nginx" deleted');
      const missing = await kubectl('get', 'pod', 'nginx');
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nginx" not found');
      const bad = await kubectl('run', 'Bad_Name', '--image=nginx');
      expect(bad.code).toBe(1);
      // kubectl run names the container after the pod, so both names are invalid.
      expect(bad.stderr).toContain('The Pod "Bad_Name" is invalid: \n* metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
      expect(bad.stderr).toContain('* spec.containers[0].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label');
    });
  });
});
