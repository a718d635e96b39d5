import type { KubeObject } from '../../shared/src/index.js';
import type { ResourceInfo } from './resources.js';

/**
 * Server-side printing (pkg/printers/internalversion/printers.go): the
 * meta.k8s.io Table kubectl asks for, with the columns and cell text
 * kubectl shows, `priority: 1` columns being the -o wide ones.
 */
export interface Column {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

type Obj = Record<string, unknown>;
type Cell = string | number;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown, dflt = ''): string => (typeof v === 'string' && v !== '' ? v : dflt);

const col = (name: string, description: string, priority = 0, type = 'string', format = ''): Column => ({ name, type, format, description, priority });
const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

export function since(ts: unknown, now: number): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

function podRow(p: KubeObject, now: number): Cell[] {
  const spec = obj(p['spec']);
  const status = obj(p['status']);
  const statuses = arr(status['containerStatuses']);
  let reason = str(status['reason'], str(status['phase']));
  let restarts = 0;
  let ready = 0;
  let running = false;
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i] as Obj;
    restarts += typeof c['restartCount'] === 'number' ? c['restartCount'] : 0;
    const state = obj(c['state']);
    const waiting = obj(state['waiting']);
    const terminated = state['terminated'] ? obj(state['terminated']) : undefined;
    if (str(waiting['reason']) !== '') reason = str(waiting['reason']);
    else if (terminated && str(terminated['reason']) !== '') reason = str(terminated['reason']);
    else if (terminated) reason = terminated['signal'] ? `Signal:${String(terminated['signal'])}` : `ExitCode:${String(terminated['exitCode'] ?? 0)}`;
    else if (c['ready'] === true && state['running']) {
      running = true;
      ready++;
    }
  }
  if (reason === 'Completed' && running) {
    reason = arr(status['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True') ? 'Running' : 'NotReady';
  }
  if (p.metadata.deletionTimestamp) reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  const podIP = str(arr(status['podIPs'])[0]?.['ip'], str(status['podIP'], '<none>'));
  const gates = arr(spec['readinessGates']);
  return [
    p.metadata.name ?? '',
    `${ready}/${arr(spec['containers']).length}`,
    reason,
    String(restarts),
    since(p.metadata.creationTimestamp, now),
    podIP,
    str(spec['nodeName'], '<none>'),
    str(status['nominatedNodeName'], '<none>'),
    gates.length === 0 ? '<none>' : `0/${gates.length}`,
  ];
}

function nodeRow(n: KubeObject, now: number): Cell[] {
  const status = obj(n['status']);
  const readyCond = arr(status['conditions']).find((c) => c['type'] === 'Ready');
  let state = readyCond?.['status'] === 'True' ? 'Ready' : readyCond?.['status'] === 'False' ? 'NotReady' : 'Unknown';
  if (obj(n['spec'])['unschedulable'] === true) state += ',SchedulingDisabled';
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(n.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    if (k === 'kubernetes.io/role' && v !== '') roles.add(v);
  }
  const info = obj(status['nodeInfo']);
  const addr = (type: string): string => str(arr(status['addresses']).find((a) => a['type'] === type)?.['address'], '<none>');
  return [
    n.metadata.name ?? '',
    state,
    roles.size === 0 ? '<none>' : [...roles].sort().join(','),
    since(n.metadata.creationTimestamp, now),
    str(info['kubeletVersion']),
    addr('InternalIP'),
    addr('ExternalIP'),
    str(info['osImage'], '<unknown>'),
    str(info['kernelVersion'], '<unknown>'),
    str(info['containerRuntimeVersion'], '<unknown>'),
  ];
}

function eventRow(e: KubeObject, now: number): Cell[] {
  const io = obj(e['involvedObject']);
  const source = obj(e['source']);
  const last = str(e['lastTimestamp'], str(e['eventTime'], str(e.metadata.creationTimestamp)));
  const first = str(e['firstTimestamp'], str(e['eventTime'], last));
  const src = str(source['component'], str(e['reportingComponent']));
  return [
    since(last, now),
    str(e['type']),
    str(e['reason']),
    `${str(io['kind']).toLowerCase()}/${str(io['name'])}`,
    str(io['fieldPath']),
    str(source['host']) !== '' ? `${src}, ${str(source['host'])}` : src,
    str(e['message']).trim(),
    since(first, now),
    typeof e['count'] === 'number' ? e['count'] : 1,
    e.metadata.name ?? '',
  ];
}

const TABLES: Record<string, { columns: Column[]; row: (o: KubeObject, now: number) => Cell[] }> = {
  pods: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'NodeName indicates in which node this pod is scheduled.', 1),
      col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    row: podRow,
  },
  nodes: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row: nodeRow,
  },
  namespaces: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    row: (n, now) => [n.metadata.name ?? '', str(obj(n['status'])['phase']), since(n.metadata.creationTimestamp, now)],
  },
  events: {
    columns: [
      col('Last Seen', 'The time since the event was last observed.'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
      col('Object', 'The object this Event is about.'),
      col('Subobject', 'The subobject this Event is about.', 1),
      col('Source', 'The component reporting this event.', 1),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'The time at which the event was first recorded.', 1),
      col('Count', 'The number of times this event has occurred.', 1, 'integer'),
      col('Name', 'Name must be unique within a namespace.', 1, 'string', 'name'),
    ],
    row: eventRow,
  },
  leases: {
    columns: [NAME, col('Holder', 'The holder of the lease.'), AGE],
    row: (l, now) => [l.metadata.name ?? '', str(obj(l['spec'])['holderIdentity']), since(l.metadata.creationTimestamp, now)],
  },
};

const WEBHOOK_TABLE = {
  columns: [NAME, col('Webhooks', 'Webhooks indicates the number of webhooks registered in this configuration', 0, 'integer'), AGE],
  row: (w: KubeObject, now: number): Cell[] => [w.metadata.name ?? '', arr(w['webhooks']).length, since(w.metadata.creationTimestamp, now)],
};

export type IncludeObject = 'Metadata' | 'Object' | 'None';

function rowObject(o: KubeObject, include: IncludeObject): Obj | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** The Table for a list of objects (or one object), as the registry's TableConvertor makes it. */
export function toTable(
  info: ResourceInfo,
  items: readonly KubeObject[],
  listMeta: Record<string, unknown>,
  o: { include: IncludeObject; noHeaders: boolean; tableVersion: string; now: number },
): Obj {
  const t = TABLES[info.resource] ?? WEBHOOK_TABLE;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${o.tableVersion}`,
    metadata: listMeta,
    columnDefinitions: o.noHeaders ? null : t.columns,
    rows: items.map((item) => {
      const object = rowObject(item, o.include);
      return object === undefined ? { cells: t.row(item, o.now) } : { cells: t.row(item, o.now), object };
    }),
  };
}
