import type { Node, Pod } from '../../shared/src/index.js';

/** Small builders for the pods and nodes the tables use. */

export function pod(name: string, extra: { cpu?: string; memory?: string; spec?: Record<string, unknown>; annotations?: Record<string, string> } = {}): Pod {
  const requests: Record<string, string> = {};
  if (extra.cpu) requests['cpu'] = extra.cpu;
  if (extra.memory) requests['memory'] = extra.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'nginx', ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}) }],
      ...extra.spec,
    },
  };
}

export function node(
  name: string,
  extra: { cpu?: string; memory?: string; pods?: string; ready?: boolean; unschedulable?: boolean; labels?: Record<string, string>; taints?: object[] } = {},
): Node {
  const allocatable = { cpu: extra.cpu ?? '4', memory: extra.memory ?? '8Gi', pods: extra.pods ?? '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
    spec: { ...(extra.unschedulable ? { unschedulable: true } : {}), ...(extra.taints ? { taints: extra.taints as never } : {}) },
    status: {
      capacity: allocatable,
      allocatable,
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  };
}
