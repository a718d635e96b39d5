import { describe, expect, it } from 'vitest';
import type { Pod } from '../../shared/src/index.js';
import { criErrorText, criTarget } from '../src/cri-client.js';
import { eventObject, TokenBucket } from '../src/events.js';
import { newLease, renewedLease } from '../src/lease.js';
import { specChanged } from '../src/node.js';
import { containerConfig, DEFAULT_DNS, sandboxConfig } from '../src/pod-config.js';
import { gracePeriodSeconds } from '../src/terminate.js';
import { TimerWheel } from '../src/wheel.js';

const POD: Pod = {
  metadata: { name: 'nginx', namespace: 'default', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] } as Pod['spec']['containers'][number]] },
};
const FACTS = { name: 'node-1', labelSandboxes: false, ...DEFAULT_DNS };

describe('timer wheel', () => {
  it('fires each key once at its slot, moves rescheduled keys, forgets cancelled ones', () => {
    let now = 1000;
    const w = new TimerWheel(100, () => now);
    const fired: string[] = [];
    w.schedule('a', 1250, () => fired.push('a'));
    w.schedule('b', 1500, () => fired.push('b'));
    w.schedule('c', 1300, () => fired.push('c'));
    w.schedule('c', 1900, () => fired.push('c2'));
    w.schedule('d', 1200, () => fired.push('d'));
    w.cancel('d');
    now = 1299;
    w.tick();
    expect(fired).toEqual(['a']);
    now = 2000;
    w.tick();
    expect(fired).toEqual(['a', 'b', 'c2']);
    expect(w.size).toBe(0);
    w.schedule('late', 10, () => fired.push('late'));
    w.tick();
    expect(fired.at(-1)).toBe('late');
    w.stop();
  });
});

describe('CRI client', () => {
  it.each([
    ['unix:///run/containerd/containerd.sock', 'unix:///run/containerd/containerd.sock'],
    ['/tmp/x.sock', 'unix:///tmp/x.sock'],
    ['unix:/tmp/x.sock', 'unix:///tmp/x.sock'],
    ['tcp://127.0.0.1:9000', '127.0.0.1:9000'],
  ])('dials %s as %s', (endpoint, target) => {
    expect(criTarget(endpoint)).toBe(target);
  });

  it('prints errors as Go prints a gRPC status', () => {
    expect(criErrorText({ code: 5, details: 'an error occurred when try to find sandbox: not found' })).toBe(
      'rpc error: code = NotFound desc = an error occurred when try to find sandbox: not found',
    );
    expect(criErrorText(new Error('boom'))).toBe('rpc error: code = Unknown desc = boom');
  });
});

describe('CRI configs', () => {
  const seen = new Date('2025-06-01T10:00:00.123Z');

  it('PodSandboxConfig: metadata, hostname, log dir, DNS, labels and annotations', () => {
    expect(sandboxConfig(POD, FACTS, 0, seen)).toMatchObject({
      metadata: { name: 'nginx', uid: 'u-1', namespace: 'default', attempt: 0 },
      hostname: 'nginx',
      logDirectory: '/var/log/pods/default_nginx_u-1',
      dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
      labels: { app: 'web', 'io.kubernetes.pod.name': 'nginx', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': 'u-1' },
      annotations: { note: 'x', 'kubernetes.io/config.seen': '2025-06-01T10:00:00.123000000Z', 'kubernetes.io/config.source': 'api' },
      linux: { cgroupParent: '/kubepods/besteffort/podu-1' },
    });
    expect((sandboxConfig(POD, { ...FACTS, labelSandboxes: true }, 0, seen)['labels'] as Record<string, string>)['k8s-trace-sim.io/node']).toBe('node-1');
  });

  it('ContainerConfig: the resolved image id, restart count, log path, labels and annotations', () => {
    const c = containerConfig(POD, POD.spec.containers[0]!, 2, 'sha256:abc', FACTS);
    expect(c).toMatchObject({
      metadata: { name: 'nginx', attempt: 2 },
      image: { image: 'sha256:abc', userSpecifiedImage: 'nginx' },
      logPath: 'nginx/2.log',
      labels: { 'io.kubernetes.container.name': 'nginx', 'io.kubernetes.pod.name': 'nginx', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': 'u-1' },
      annotations: {
        'io.kubernetes.container.restartCount': '2',
        'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
        'io.kubernetes.container.terminationMessagePolicy': 'File',
        'io.kubernetes.pod.terminationGracePeriod': '30',
        'io.kubernetes.container.ports': '[{"containerPort":80,"protocol":"TCP"}]',
      },
    });
    expect((c['envs'] as Array<{ key: string }>).map((e) => e.key)).toContain('KUBERNETES_SERVICE_HOST');
    expect((c['envs'] as Array<{ key: string; value: string }>)[0]).toEqual({ key: 'A', value: '1' });
  });
});

describe('small pieces', () => {
  it('token bucket: burst, then qps; 0 means unlimited', () => {
    let now = 0;
    const b = new TokenBucket(2, 3, () => now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    now = 500;
    expect([b.take(), b.take()]).toEqual([true, false]);
    const free = new TokenBucket(0, 0);
    expect(Array.from({ length: 100 }, () => free.take()).every(Boolean)).toBe(true);
  });

  it('events are core/v1 Events from the kubelet of this node', () => {
    const e = eventObject(POD, { type: 'Normal', reason: 'Pulling', message: 'Pulling image "nginx"', fieldPath: 'spec.containers{nginx}' }, 'node-1', 'nginx.1', new Date('2025-06-01T10:00:00Z'));
    expect(e).toMatchObject({
      involvedObject: { kind: 'Pod', name: 'nginx', namespace: 'default', uid: 'u-1', apiVersion: 'v1', fieldPath: 'spec.containers{nginx}' },
      source: { component: 'kubelet', host: 'node-1' },
      count: 1,
      firstTimestamp: '2025-06-01T10:00:00Z',
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    });
  });

  it('leases: created owned by the node, renewed with a new time and the same version', () => {
    const l = newLease('node-1', 'nuid', 40, new Date('2025-06-01T10:00:00Z'));
    expect(l).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'node-1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'nuid' }] },
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2025-06-01T10:00:00.000000Z' },
    });
    const stored = { ...newLease('node-1', undefined, 40, new Date(0)), metadata: { name: 'node-1', namespace: 'kube-node-lease', resourceVersion: '7' } };
    const r = renewedLease(stored, 'node-1', 'nuid', 40, new Date('2025-06-01T10:00:10Z'));
    expect(r.metadata).toMatchObject({ resourceVersion: '7', ownerReferences: [{ uid: 'nuid' }] });
    expect(r.spec.renewTime).toBe('2025-06-01T10:00:10.000000Z');
  });

  it('only spec, labels, annotations and deletion make an API change a sync', () => {
    expect(specChanged(POD, { ...POD, status: { phase: 'Running' } })).toBe(false);
    expect(specChanged(POD, { ...POD, metadata: { ...POD.metadata, labels: { app: 'db' } } })).toBe(true);
    expect(specChanged(POD, { ...POD, metadata: { ...POD.metadata, deletionTimestamp: 'now' } })).toBe(true);
  });

  it.each([
    ['deletion grace period', { deletionGracePeriodSeconds: 10 }, {}, false, 10],
    ['the spec when no deletion grace is set', {}, { terminationGracePeriodSeconds: 45 }, false, 45],
    ['never under 2 s', { deletionGracePeriodSeconds: 0 }, {}, false, 2],
    ['1 s when force-deleted', {}, {}, true, 1],
    ['30 s by default', {}, {}, false, 30],
  ])('grace period: %s', (_why, meta, spec, removed, want) => {
    const p = { ...POD, metadata: { ...POD.metadata, ...meta }, spec: { ...POD.spec, ...spec } };
    expect(gracePeriodSeconds({ pod: p, uid: 'u-1', seen: new Date(), reasons: new Map(), backoffs: new Map(), sandboxConfig: undefined, deleting: true, removed })).toBe(want);
  });
});
