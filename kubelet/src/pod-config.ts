import { createHash } from 'node:crypto';
import type { Container, Pod } from '../../shared/src/index.js';
import { parseQuantity } from '../../shared/src/k8s/quantity.js';
import { ANNOTATION, LABEL } from './runtime-status.js';

/**
 * The CRI configs the kubelet sends for a pod (kuberuntime_sandbox.go
 * generatePodSandboxConfig, kuberuntime_container.go generateContainerConfig),
 * as pure functions of the pod and the node.
 */

/** In a process that hosts several nodes on one runtime, each node labels what it creates so its relist sees only its own. */
export const NODE_LABEL = 'k8s-trace-sim.io/node';

export interface NodeFacts {
  readonly name: string;
  /** Set when the runtime is shared between simulated nodes. */
  readonly labelSandboxes: boolean;
  /** kube-dns's ClusterIP (kubeadm/kind: 10.96.0.10) and the cluster domain. */
  readonly clusterDns: string;
  readonly clusterDomain: string;
}

export const DEFAULT_DNS = { clusterDns: '10.96.0.10', clusterDomain: 'cluster.local' } as const;

const ns = (pod: Pod): string => pod.metadata.namespace ?? 'default';

export function podLabels(pod: Pod, node: NodeFacts): Record<string, string> {
  return {
    ...pod.metadata.labels,
    [LABEL.podName]: pod.metadata.name ?? '',
    [LABEL.podNamespace]: ns(pod),
    [LABEL.podUid]: pod.metadata.uid ?? '',
    ...(node.labelSandboxes ? { [NODE_LABEL]: node.name } : {}),
  };
}

export function hostNetwork(pod: Pod): boolean {
  return pod.spec['hostNetwork'] === true;
}

/** metav1.Time with nanoseconds, as config.seen is written. */
function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/Z$/, '000000Z');
}

export function sandboxConfig(pod: Pod, node: NodeFacts, attempt: number, seen: Date): Record<string, unknown> {
  const name = pod.metadata.name ?? '';
  const uid = pod.metadata.uid ?? '';
  const hostname = ((pod.spec['hostname'] as string | undefined) ?? name).slice(0, 63);
  const qos = qosClass(pod).toLowerCase();
  return {
    metadata: { name, uid, namespace: ns(pod), attempt },
    hostname: hostNetwork(pod) ? node.name : hostname,
    logDirectory: `/var/log/pods/${ns(pod)}_${name}_${uid}`,
    dnsConfig: hostNetwork(pod)
      ? null
      : {
          servers: [node.clusterDns],
          searches: [`${ns(pod)}.svc.${node.clusterDomain}`, `svc.${node.clusterDomain}`, node.clusterDomain],
          options: ['ndots:5'],
        },
    portMappings: (pod.spec.containers ?? []).flatMap((c) =>
      (c.ports ?? [])
        .filter((p) => (p as { hostPort?: number }).hostPort)
        .map((p) => ({ protocol: 0, containerPort: p.containerPort, hostPort: (p as { hostPort?: number }).hostPort, hostIp: '' })),
    ),
    labels: podLabels(pod, node),
    annotations: { ...pod.metadata.annotations, 'kubernetes.io/config.seen': rfc3339Nano(seen), 'kubernetes.io/config.source': 'api' },
    linux: {
      cgroupParent: `/kubepods/${qos === 'guaranteed' ? '' : `${qos}/`}pod${uid}`,
      securityContext: { namespaceOptions: { network: hostNetwork(pod) ? 2 : 0, pid: 1, ipc: 0, targetId: '' } },
    },
  };
}

/** kubecontainer.HashContainer: a stable hash of the container spec, in hex. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

/** The env every container gets for the kubernetes Service (kubelet's service env, kind/kubeadm's 10.96.0.1). */
const SERVICE_ENV: ReadonlyArray<[string, string]> = [
  ['KUBERNETES_SERVICE_HOST', '10.96.0.1'],
  ['KUBERNETES_SERVICE_PORT', '443'],
  ['KUBERNETES_SERVICE_PORT_HTTPS', '443'],
  ['KUBERNETES_PORT', 'tcp://10.96.0.1:443'],
  ['KUBERNETES_PORT_443_TCP', 'tcp://10.96.0.1:443'],
  ['KUBERNETES_PORT_443_TCP_PROTO', 'tcp'],
  ['KUBERNETES_PORT_443_TCP_PORT', '443'],
  ['KUBERNETES_PORT_443_TCP_ADDR', '10.96.0.1'],
];

export function containerConfig(pod: Pod, c: Container, attempt: number, imageRef: string, node: NodeFacts): Record<string, unknown> {
  const uid = pod.metadata.uid ?? '';
  const env = ((c['env'] as Array<{ name: string; value?: string }> | undefined) ?? []).map((e) => ({ key: e.name, value: e.value ?? '' }));
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  return {
    metadata: { name: c.name, attempt },
    // The kubelet creates from the resolved image id and keeps what the user wrote alongside.
    image: { image: imageRef, annotations: {}, userSpecifiedImage: c.image ?? '', runtimeHandler: '', imageRef: '' },
    command: c.command ?? [],
    args: c.args ?? [],
    workingDir: (c['workingDir'] as string | undefined) ?? '',
    envs: [...env, ...SERVICE_ENV.map(([key, value]) => ({ key, value }))],
    mounts: [
      { containerPath: '/etc/hosts', hostPath: `/var/lib/kubelet/pods/${uid}/etc-hosts`, readonly: false, selinuxRelabel: false, propagation: 0 },
      {
        containerPath: '/dev/termination-log',
        hostPath: `/var/lib/kubelet/pods/${uid}/containers/${c.name}/${containerHash(c)}`,
        readonly: false,
        selinuxRelabel: false,
        propagation: 0,
      },
    ],
    labels: {
      [LABEL.containerName]: c.name,
      [LABEL.podName]: pod.metadata.name ?? '',
      [LABEL.podNamespace]: pod.metadata.namespace ?? 'default',
      [LABEL.podUid]: uid,
      ...(node.labelSandboxes ? { [NODE_LABEL]: node.name } : {}),
    },
    annotations: {
      [ANNOTATION.containerHash]: containerHash(c),
      [ANNOTATION.restartCount]: String(attempt),
      [ANNOTATION.terminationMessagePath]: (c['terminationMessagePath'] as string | undefined) ?? '/dev/termination-log',
      [ANNOTATION.terminationMessagePolicy]: (c['terminationMessagePolicy'] as string | undefined) ?? 'File',
      [ANNOTATION.terminationGracePeriod]: String(grace),
      ...(c.ports && c.ports.length > 0 ? { [ANNOTATION.containerPorts]: JSON.stringify(c.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol ?? 'TCP', ...(p.name ? { name: p.name } : {}) }))) } : {}),
    },
    logPath: `${c.name}/${attempt}.log`,
    stdin: c['stdin'] === true,
    stdinOnce: c['stdinOnce'] === true,
    tty: c['tty'] === true,
  };
}

/** v1qos.GetPodQOS: Guaranteed when every container limits cpu and memory at its requests, BestEffort when nothing is set. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || parseQuantity(q) !== parseQuantity(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
