import type { Container, Node, Pod } from '../../shared/src/index.js';
import { milliCpu, quantityValue } from '../../shared/src/k8s/quantity.js';

/**
 * What a pod asks of a node and what a node has used, in the units of the
 * scheduler's framework.Resource: millicores and bytes.
 */
export interface Requests {
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  /** With the scoring defaults for containers that request nothing (100m, 200Mi): schedutil.GetNonzeroRequests. */
  readonly nonzeroCpu: number;
  readonly nonzeroMemory: number;
}

export interface NodeUsage extends Requests {
  readonly pods: number;
}

export const EMPTY_USAGE: NodeUsage = { pods: 0, cpu: 0, memory: 0, ephemeralStorage: 0, nonzeroCpu: 0, nonzeroMemory: 0 };

const DEFAULT_MILLI_CPU = 100;
const DEFAULT_MEMORY = 200 * 1024 * 1024;

/** A container's request for one resource; the apiserver defaults a missing request to the limit. */
function request(c: Container, name: string): string | undefined {
  return c.resources?.requests?.[name] ?? c.resources?.limits?.[name];
}

function containerRequests(c: Container): Requests {
  const cpu = milliCpu(request(c, 'cpu'));
  const memory = quantityValue(request(c, 'memory'));
  return {
    cpu,
    memory,
    ephemeralStorage: quantityValue(request(c, 'ephemeral-storage')),
    nonzeroCpu: request(c, 'cpu') === undefined ? DEFAULT_MILLI_CPU : cpu,
    nonzeroMemory: request(c, 'memory') === undefined ? DEFAULT_MEMORY : memory,
  };
}

const sum = (a: Requests, b: Requests): Requests => ({
  cpu: a.cpu + b.cpu,
  memory: a.memory + b.memory,
  ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage,
  nonzeroCpu: a.nonzeroCpu + b.nonzeroCpu,
  nonzeroMemory: a.nonzeroMemory + b.nonzeroMemory,
});

const max = (a: Requests, b: Requests): Requests => ({
  cpu: Math.max(a.cpu, b.cpu),
  memory: Math.max(a.memory, b.memory),
  ephemeralStorage: Math.max(a.ephemeralStorage, b.ephemeralStorage),
  nonzeroCpu: Math.max(a.nonzeroCpu, b.nonzeroCpu),
  nonzeroMemory: Math.max(a.nonzeroMemory, b.nonzeroMemory),
});

const ZERO: Requests = { cpu: 0, memory: 0, ephemeralStorage: 0, nonzeroCpu: 0, nonzeroMemory: 0 };

/** The containers' sum, or the largest init container when that is more (init containers run one at a time). */
export function podRequests(pod: Pod): Requests {
  const regular = (pod.spec.containers ?? []).map(containerRequests).reduce(sum, ZERO);
  const init = (pod.spec.initContainers ?? []).map(containerRequests).reduce(max, ZERO);
  return max(regular, init);
}

export function addPod(u: NodeUsage, r: Requests): NodeUsage {
  return { ...sum(u, r), pods: u.pods + 1 };
}

export function removePod(u: NodeUsage, r: Requests): NodeUsage {
  return {
    pods: Math.max(0, u.pods - 1),
    cpu: u.cpu - r.cpu,
    memory: u.memory - r.memory,
    ephemeralStorage: u.ephemeralStorage - r.ephemeralStorage,
    nonzeroCpu: u.nonzeroCpu - r.nonzeroCpu,
    nonzeroMemory: u.nonzeroMemory - r.nonzeroMemory,
  };
}

/** The usage a set of pods adds up to. */
export function usageOf(pods: readonly Pod[]): NodeUsage {
  return pods.map(podRequests).reduce(addPod, EMPTY_USAGE);
}

export interface Allocatable {
  readonly pods: number;
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
}

/** A node's allocatable (capacity when allocatable is missing); pods default to the kubelet's 110. */
export function allocatable(node: Node): Allocatable {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    pods: a['pods'] === undefined ? 110 : quantityValue(a['pods']),
    cpu: milliCpu(a['cpu']),
    memory: quantityValue(a['memory']),
    ephemeralStorage: quantityValue(a['ephemeral-storage']),
  };
}
