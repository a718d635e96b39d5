import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/src/index.js';
import { admitPodCreate, defaultPod, defaultPullPolicy, podGracePeriod, preparePodForCreate, qosClass, validatePodSpec, validatePodUpdate } from '../src/pods.js';
import { beforeDelete } from '../src/registry-delete.js';
import { resourceByName } from '../src/resources.js';
import { assignPod } from '../src/pod-binding.js';
import { DNS1123_LABEL_MSG, DNS1123_SUBDOMAIN_MSG, dns1123Label, dns1123Subdomain, validateObjectMeta } from '../src/validation.js';

const pod = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({ metadata: { name: 'p', namespace: 'default' }, spec, ...extra });

describe('pod defaulting and admission', () => {
  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry:5000/nginx', 'Always'],
    ['registry:5000/nginx:1.2', 'IfNotPresent'],
    ['nginx@sha256:abc', 'IfNotPresent'],
  ])('imagePullPolicy for %s is %s', (image, want) => {
    expect(defaultPullPolicy(image)).toBe(want);
  });

  it('SetDefaults_Pod, Priority and DefaultTolerationSeconds, PrepareForCreate', () => {
    const p = preparePodForCreate(admitPodCreate(defaultPod(pod({ containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] }))));
    expect(p['spec']).toEqual({
      containers: [
        {
          name: 'c',
          image: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          imagePullPolicy: 'Always',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    });
    expect(p['status']).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it.each([
    [[{}], 'BestEffort'],
    [[{ requests: { cpu: '100m' } }], 'Burstable'],
    [[{ limits: { cpu: '1', memory: '1Gi' } }], 'Guaranteed'],
    [[{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } }], 'Burstable'],
    [[{ limits: { cpu: '1', memory: '1Gi' } }, {}], 'Burstable'],
  ])('QoS of %j is %s', (resources, want) => {
    expect(qosClass({ containers: resources.map((r, i) => ({ name: `c${i}`, resources: r })) })).toBe(want);
  });
});

describe('validation messages', () => {
  it.each([
    ['ok-name', []],
    ['a.b.c', []],
    ['Bad_Name', [DNS1123_SUBDOMAIN_MSG]],
    ['x'.repeat(254), ['must be no more than 253 characters']],
  ])('subdomain %j', (name, want) => {
    expect(dns1123Subdomain(name, false)).toEqual(want);
  });

  it('labels may not contain dots; a generateName may end with a dash', () => {
    expect(dns1123Label('a.b', false)).toEqual([DNS1123_LABEL_MSG]);
    expect(dns1123Subdomain('web-', true)).toEqual([]);
  });

  it('metadata: name or generateName required, invalid name with upstream wording', () => {
    expect(validateObjectMeta({ metadata: {} }, false, dns1123Subdomain)).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
    ]);
    expect(validateObjectMeta({ metadata: { name: 'Bad_Name', namespace: 'default' } }, true, dns1123Subdomain)).toEqual([
      { reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_MSG}`, field: 'metadata.name' },
    ]);
  });

  it('pod spec: containers required, names, images, duplicates', () => {
    expect(validatePodSpec(defaultPod(pod({})))).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }]);
    const errs = validatePodSpec(defaultPod(pod({ containers: [{ name: 'A', image: 'x' }, { name: 'b' }, { name: 'b', image: 'y' }] })));
    expect(errs.map((e) => `${e.field}: ${e.message}`)).toEqual([
      `spec.containers[0].name: Invalid value: "A": ${DNS1123_LABEL_MSG}`,
      'spec.containers[1].image: Required value',
      'spec.containers[2].name: Duplicate value: "b"',
    ]);
  });

  it('pod updates may change images but not other spec fields', () => {
    const old = defaultPod(pod({ containers: [{ name: 'c', image: 'nginx:1' }] }));
    const image = defaultPod(pod({ containers: [{ name: 'c', image: 'nginx:2', imagePullPolicy: 'IfNotPresent' }] }));
    expect(validatePodUpdate(image, old)).toEqual([]);
    const restart = { ...old, spec: { ...(old['spec'] as object), restartPolicy: 'Never' } };
    const errs = validatePodUpdate(restart, old);
    expect(errs[0]?.field).toBe('spec');
    expect(errs[0]?.message).toMatch(/^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  });
});

describe('graceful deletion and binding', () => {
  const pods = resourceByName('pods');
  const now = new Date('2025-01-01T00:00:00Z');
  const bound = pod({ nodeName: 'n1', terminationGracePeriodSeconds: 30, containers: [] });

  it.each([
    [pod({ terminationGracePeriodSeconds: 30 }), undefined, 0],
    [bound, undefined, 30],
    [bound, 5, 5],
    [{ ...bound, status: { phase: 'Succeeded' } }, undefined, 0],
  ])('grace period %#', (p, requested, want) => {
    expect(podGracePeriod(p, requested)).toBe(want);
  });

  it('a bound pod gets deletionTimestamp; a second DELETE with grace 0 shortens it to now', () => {
    const first = beforeDelete(pods, bound, undefined, now);
    expect(first).toMatchObject({ kind: 'graceful', period: 30 });
    const marked = (first as { obj: KubeObject }).obj;
    expect(marked.metadata).toMatchObject({ deletionTimestamp: '2025-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 });
    expect(beforeDelete(pods, marked, undefined, now)).toEqual({ kind: 'pending' });
    expect(beforeDelete(pods, marked, 30, now)).toEqual({ kind: 'pending' });
    const zero = beforeDelete(pods, marked, 0, new Date('2025-01-01T00:00:10Z'));
    expect(zero).toMatchObject({ kind: 'graceful', period: 0 });
    expect((zero as { obj: KubeObject }).obj.metadata.deletionTimestamp).toBe('2025-01-01T00:00:10Z');
    expect(beforeDelete(resourceByName('nodes'), bound, undefined, now)).toEqual({ kind: 'now' });
  });

  it('binding sets nodeName and PodScheduled; a bound pod cannot be bound again', () => {
    const p = assignPod(pod({ containers: [] }, { status: { phase: 'Pending' } }), 'n1', { a: 'b' }, now);
    expect(p['spec']).toMatchObject({ nodeName: 'n1' });
    expect(p['status']).toEqual({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' }] });
    expect(p.metadata.annotations).toEqual({ a: 'b' });
    expect(() => assignPod(p, 'n2', undefined, now)).toThrow('pod p is already assigned to node "n1"');
  });
});
