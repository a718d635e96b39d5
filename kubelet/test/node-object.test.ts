import { describe, expect, it } from 'vitest';
import { parseKubeletFlags, type KubeletConfig } from '../src/config.js';
import { initialNode, machineIds, nodeConditions, nodeImages, nodeResources, nodeStatus, nodeStatusChanged, type RuntimeFacts } from '../src/node-object.js';

const parsed = parseKubeletFlags(['--kubeconfig', '/k', '--node-labels', 'tier=edge', '--register-with-taints', 'gpu=yes:NoSchedule']);
const cfg = (parsed as { config: KubeletConfig }).config;
const spec = cfg.nodes[0]!;
const RT: RuntimeFacts = {
  containerRuntimeVersion: 'containerd://2.1.4',
  kernelVersion: '6.8.0-1015-gcp',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  runtimeHandlers: [{ name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: true } }],
  features: { supplementalGroupsPolicy: true },
  images: [{ names: ['docker.io/library/nginx@sha256:abc', 'docker.io/library/nginx:latest'], sizeBytes: 72195292 }],
};
const NOW = new Date('2025-06-01T10:00:00Z');

describe('node object', () => {
  it('capacity in Ki as cadvisor reports it; allocatable after the default hard eviction thresholds', () => {
    expect(nodeResources({ capacity: { cpu: '8', memory: '32Gi', 'ephemeral-storage': '100Gi' }, maxPods: 110 })).toEqual({
      capacity: { cpu: '8', 'ephemeral-storage': '104857600Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '33554432Ki', pods: '110' },
      allocatable: { cpu: '8', 'ephemeral-storage': '96636764160', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '33452032Ki', pods: '110' },
    });
  });

  it('registers with labels, annotations, podCIDR, taints and a full status', () => {
    const n = initialNode(spec, cfg, RT, NOW, true);
    expect(n.metadata).toEqual({
      name: 'node-1',
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': 'node-1',
        'kubernetes.io/os': 'linux',
        tier: 'edge',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    });
    expect(n.spec).toEqual({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] });
    expect(n.status?.nodeInfo).toEqual({
      ...machineIds('node-1'),
      kernelVersion: '6.8.0-1015-gcp',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://2.1.4',
      kubeletVersion: 'v1.35.0',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(n.status?.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(n.status?.images).toEqual(RT.images);
  });

  it('conditions: heartbeats move, transitions only when the status flips', () => {
    const first = nodeConditions(undefined, NOW, true);
    expect(first.find((c) => c.type === 'Ready')).toEqual({
      type: 'Ready',
      status: 'True',
      lastHeartbeatTime: '2025-06-01T10:00:00Z',
      lastTransitionTime: '2025-06-01T10:00:00Z',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    });
    const later = nodeConditions(first, new Date('2025-06-01T10:05:00Z'), true);
    expect(later.find((c) => c.type === 'Ready')).toMatchObject({ lastHeartbeatTime: '2025-06-01T10:05:00Z', lastTransitionTime: '2025-06-01T10:00:00Z' });
    const down = nodeConditions(later, new Date('2025-06-01T10:06:00Z'), false);
    expect(down.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady', lastTransitionTime: '2025-06-01T10:06:00Z' });
  });

  it('a heartbeat alone is not a change; a new image is', () => {
    const a = nodeStatus(spec, cfg, RT, undefined, NOW, true);
    const b = nodeStatus(spec, cfg, RT, { metadata: {}, status: a }, new Date('2025-06-01T10:00:10Z'), true);
    expect(nodeStatusChanged(a, b)).toBe(false);
    const c = nodeStatus(spec, cfg, { ...RT, images: [...RT.images, { names: ['busybox'], sizeBytes: 1 }] }, { metadata: {}, status: a }, NOW, true);
    expect(nodeStatusChanged(a, c)).toBe(true);
  });

  it('node images: digests then tags, largest first, at most 50, untagged ones left out', () => {
    const images = Array.from({ length: 60 }, (_, i) => ({ repoTags: [`img${i}:v1`], repoDigests: [`img${i}@sha256:${i}`], size: String(i) }));
    images.push({ repoTags: [], repoDigests: [], size: '999' });
    const out = nodeImages(images);
    expect(out).toHaveLength(50);
    expect(out[0]).toEqual({ names: ['img59@sha256:59', 'img59:v1'], sizeBytes: 59 });
  });
});
