import { createHash } from 'node:crypto';
import type { Node, NodeCondition } from '../../shared/src/index.js';
import { parseQuantity } from '../../shared/src/k8s/quantity.js';
import type { KubeletConfig, NodeSpec } from './config.js';
import { apiTime } from './pod-status.js';

/**
 * The Node a kubelet registers and keeps up to date (kubelet_node_status.go
 * initialNode and the nodestatus setters), built by pure functions from the
 * configuration and what the runtime reports.
 */

export interface RuntimeFacts {
  /** `containerd://2.1.4`, from the runtime's Version. */
  readonly containerRuntimeVersion: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly runtimeHandlers: ReadonlyArray<{ name: string; features: Record<string, boolean> }>;
  readonly features: Readonly<Record<string, boolean>>;
  readonly images: ReadonlyArray<{ names: string[]; sizeBytes: number }>;
}

const KI = 1024;
const ki = (bytes: number): string => `${Math.floor(bytes / KI)}Ki`;

/** Capacity as cadvisor reports it (memory and storage in Ki) and allocatable after the default hard-eviction thresholds. */
export function nodeResources(cfg: Pick<KubeletConfig, 'capacity' | 'maxPods'>): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memory = parseQuantity(cfg.capacity['memory']) ?? 0;
  const storage = parseQuantity(cfg.capacity['ephemeral-storage']) ?? 0;
  const cpu = cfg.capacity['cpu'] ?? '0';
  const common = { cpu, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', pods: String(cfg.maxPods) };
  return {
    capacity: { ...common, 'ephemeral-storage': ki(storage), memory: ki(memory) },
    allocatable: {
      ...common,
      // evictionHard nodefs.available<10%: Go prints this quantity in plain bytes.
      'ephemeral-storage': String(Math.floor((Math.floor(storage / KI) * KI * 9) / 10)),
      // evictionHard memory.available<100Mi.
      memory: ki(memory - 100 * 1024 * KI),
    },
  };
}

/** Stable per-node machine identity, so a restarted simulator reports the same machine. */
export function machineIds(name: string): { machineID: string; systemUUID: string; bootID: string } {
  const h = (s: string): string => createHash('sha256').update(s).digest('hex');
  const uuid = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return { machineID: h(`machine ${name}`).slice(0, 32), systemUUID: uuid(h(`uuid ${name}`)), bootID: uuid(h(`boot ${name}`)) };
}

const CONDITIONS = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
] as const;

const NOT_READY = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' } as const;

/** The four conditions; transition times carry over from `previous` while a status holds, heartbeats are `now`. */
export function nodeConditions(previous: readonly NodeCondition[] | undefined, now: Date, runtimeReady: boolean): NodeCondition[] {
  return CONDITIONS.map((c) => {
    const want = c.type === 'Ready' && !runtimeReady ? NOT_READY : c;
    const old = previous?.find((p) => p.type === want.type);
    return {
      type: want.type,
      status: want.status,
      lastHeartbeatTime: apiTime(now),
      lastTransitionTime: old && old.status === want.status && old.lastTransitionTime ? old.lastTransitionTime : apiTime(now),
      reason: want.reason,
      message: want.message,
    };
  });
}

export function nodeStatus(spec: NodeSpec, cfg: KubeletConfig, rt: RuntimeFacts, previous: Node | undefined, now: Date, runtimeReady: boolean): NonNullable<Node['status']> {
  const { capacity, allocatable } = nodeResources(cfg);
  return {
    capacity,
    allocatable,
    conditions: nodeConditions(previous?.status?.conditions, now, runtimeReady),
    addresses: [
      { type: 'InternalIP', address: spec.ip },
      { type: 'Hostname', address: spec.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      ...machineIds(spec.name),
      kernelVersion: rt.kernelVersion,
      osImage: rt.osImage,
      containerRuntimeVersion: rt.containerRuntimeVersion,
      kubeletVersion: cfg.profile.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    images: rt.images.map((i) => ({ names: [...i.names], sizeBytes: i.sizeBytes })),
    runtimeHandlers: rt.runtimeHandlers.map((h) => ({ name: h.name, features: { ...h.features } })),
    features: { ...rt.features },
  };
}

/** initialNode: labels, annotations, podCIDR and taints, with a full status. */
export function initialNode(spec: NodeSpec, cfg: KubeletConfig, rt: RuntimeFacts, now: Date, runtimeReady: boolean): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        ...cfg.labels,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      // Normally the node IPAM controller's; the simulation has no controller manager.
      podCIDR: spec.podCidr,
      podCIDRs: [spec.podCidr],
      ...(cfg.taints.length > 0 ? { taints: cfg.taints.map((t) => ({ ...t })) } : {}),
    },
    status: nodeStatus(spec, cfg, rt, undefined, now, runtimeReady),
  };
}

/** Whether anything but heartbeat times differs: nodeStatusHasChanged. */
export function nodeStatusChanged(a: Node['status'], b: Node['status']): boolean {
  const strip = (s: Node['status']): unknown => ({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}

/** ImageStatus/ListImages images as the node status lists them: digests then tags, at most 50, largest first. */
export function nodeImages(images: ReadonlyArray<{ repoTags: string[]; repoDigests: string[]; size: string }>): Array<{ names: string[]; sizeBytes: number }> {
  return images
    .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: Number(i.size) }))
    .filter((i) => i.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, 50);
}
