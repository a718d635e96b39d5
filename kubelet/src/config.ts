import { FlagError, parseFlags } from '../../shared/src/index.js';
import { parseQuantity } from '../../shared/src/k8s/quantity.js';
import { PROFILE_1_35, type KubeletProfile, type TraceMode } from './spans.js';

/**
 * The kubelet's flags (the real kubelet's names where one exists) read once
 * into a typed, validated configuration. Issue 4 adds the KubeletConfiguration
 * file; it will produce the same type.
 */
export const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server', metavar: 'FILE' },
  'container-runtime-endpoint': { type: 'string', default: 'unix:///run/containerd/containerd.sock', help: 'The endpoint of remote runtime service', metavar: 'URL' },
  'hostname-override': { type: 'string', help: 'If non-empty, will use this string as identification instead of the actual hostname (only with --nodes 1)', metavar: 'NAME' },
  'node-ip': { type: 'string', default: '172.18.0.2', help: "IP address of the node; with several nodes, the first node's, the others count up", metavar: 'IP' },
  'node-labels': { type: 'stringArray', help: 'Labels to add when registering the node in the cluster (key=value pairs separated by ",")', metavar: 'LABELS' },
  'register-node': { type: 'bool', default: true, help: 'Register the node with the apiserver' },
  'register-with-taints': { type: 'stringArray', help: 'Register the node with the given list of taints (comma separated "<key>=<value>:<effect>")', metavar: 'TAINTS' },
  'max-pods': { type: 'int', default: 110, help: 'Number of Pods that can run on this Kubelet', metavar: 'N' },
  'sync-frequency': { type: 'duration', default: 60_000, help: 'Max period between synchronizing running containers and config', metavar: 'DURATION' },
  'node-status-update-frequency': { type: 'duration', default: 10_000, help: 'How often the kubelet checks its node status (and renews its lease)', metavar: 'DURATION' },
  'runtime-request-timeout': { type: 'duration', default: 120_000, help: 'Timeout of all runtime requests except long running ones (pull)', metavar: 'DURATION' },
  'event-qps': { type: 'int', default: 50, help: 'QPS to limit event creations (0: no limit)', metavar: 'N' },
  'event-burst': { type: 'int', default: 100, help: 'Maximum size of a bursty event records', metavar: 'N' },
  'record-events': { type: 'bool', default: true, help: 'post Events (Pulling, Pulled, Created, Started, Killing…); false saves the apiserver four or five requests per pod' },
  'healthz-port': { type: 'int', default: 10248, help: 'The port of the localhost healthz endpoint (set to 0 to disable)', metavar: 'PORT' },
  'healthz-bind-address': { type: 'string', default: '127.0.0.1', help: 'The IP address for the healthz server to serve on', metavar: 'IP' },
  v: { type: 'int', default: 0, help: 'number for the log level verbosity', metavar: 'LEVEL' },
  nodes: { type: 'int', default: 1, help: 'how many simulated nodes this process runs, each a kubelet of its own', metavar: 'N' },
  'node-name-prefix': { type: 'string', default: 'node-', help: 'node names are this prefix and 1…N', metavar: 'PREFIX' },
  'node-capacity': { type: 'string', default: 'cpu=8,memory=32Gi,ephemeral-storage=100Gi', help: 'what each simulated node reports as capacity', metavar: 'LIST' },
  'tracing-endpoint': { type: 'string', help: 'OTLP/gRPC endpoint for spans (the KubeletConfiguration tracing.endpoint); tracing is off without it', metavar: 'HOST:PORT' },
  'tracing-sampling-rate-per-million': { type: 'int', default: 0, help: 'root spans kept per million (tracing.samplingRatePerMillion); sampled parents are always followed', metavar: 'N' },
  'trace-mode': { type: 'string', default: 'story', help: "story: the create syncPod joins the pod's traceparent annotation; faithful: syncPod is always a root", metavar: 'MODE' },
  'apiserver-wait': { type: 'duration', default: 30_000, help: 'how long to wait for the apiserver at start-up before giving up', metavar: 'DURATION' },
  seed: { type: 'int', help: 'seed for jitter (random when unset)', metavar: 'N' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeSpec {
  readonly name: string;
  readonly ip: string;
  readonly podCidr: string;
}

export interface KubeletConfig {
  readonly kubeconfig: string;
  readonly runtimeEndpoint: string;
  readonly nodes: readonly NodeSpec[];
  readonly labels: Readonly<Record<string, string>>;
  readonly registerNode: boolean;
  readonly taints: readonly Taint[];
  readonly maxPods: number;
  readonly capacity: Readonly<Record<string, string>>;
  readonly syncFrequencyMs: number;
  readonly nodeStatusUpdateFrequencyMs: number;
  /** nodeStatusReportFrequency: an unchanged status is still PATCHed this often (default 5m). */
  readonly nodeStatusReportFrequencyMs: number;
  readonly nodeLeaseDurationSeconds: number;
  readonly runtimeRequestTimeoutMs: number;
  readonly eventQps: number;
  readonly eventBurst: number;
  readonly recordEvents: boolean;
  readonly verbosity: number;
  readonly healthz: { readonly host: string; readonly port: number };
  readonly tracing: { readonly endpoint?: string; readonly samplingRatePerMillion: number };
  readonly traceMode: TraceMode;
  readonly profile: KubeletProfile;
  readonly apiserverWaitMs: number;
  readonly seed: number | undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function nodeNames(count: number, prefix: string, override: string | undefined): string[] {
  if (override !== undefined && override !== '') {
    if (count !== 1) throw new FlagError('--hostname-override names one node; it cannot be used with --nodes greater than 1');
    return [override.trim().toLowerCase()];
  }
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** `count` addresses counting up from `first`, skipping network (.0) and broadcast (.255) addresses, as in a kind network. */
export function nodeIps(first: string, count: number): string[] {
  let n = ipToInt(first);
  if (n === undefined) throw new FlagError(`invalid argument "${first}" for "--node-ip" flag: not an IPv4 address`);
  const out: string[] = [];
  while (out.length < count) {
    if ((n & 255) !== 0 && (n & 255) !== 255) out.push(intToIp(n));
    n++;
  }
  return out;
}

/** Each node's podCIDR: a /24 out of 10.244.0.0/16 as kind's controller hands them out (the control plane has .0). */
export function podCidr(index: number): string {
  return `${intToIp(ipToInt('10.244.0.0') as number + (index + 1) * 256)}/24`;
}

export function parseKeyValues(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((i) => i.split(',')).filter((i) => i.trim() !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new FlagError(`invalid argument "${item}" for "--${flag}" flag: expected key=value`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

export function parseTaints(items: readonly string[]): Taint[] {
  return items.map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t.trim());
    if (!m) throw new FlagError(`invalid argument "${t}" for "--register-with-taints" flag: invalid taint spec: ${t}`);
    return { key: m[1] as string, ...(m[2] ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
  });
}

export function parseKubeletFlags(argv: readonly string[]): { help: true } | { help: false; config: KubeletConfig } {
  const f = parseFlags(argv, FLAGS);
  if (f.help) return { help: true };
  if (!f.kubeconfig) throw new FlagError('--kubeconfig is required: the simulated kubelet has no standalone mode');
  if (f.nodes < 1) throw new FlagError(`invalid argument "${f.nodes}" for "--nodes" flag: must be at least 1`);
  const names = nodeNames(f.nodes, f['node-name-prefix'], f['hostname-override']);
  for (const n of names) {
    if (!DNS_SUBDOMAIN.test(n) || n.length > 253) throw new FlagError(`invalid node name "${n}": must be a lowercase RFC 1123 subdomain`);
  }
  const ips = nodeIps(f['node-ip'], names.length);
  const rate = f['tracing-sampling-rate-per-million'];
  if (rate < 0 || rate > 1_000_000) {
    throw new FlagError(`invalid argument "${rate}" for "--tracing-sampling-rate-per-million" flag: must be between 0 and 1000000`);
  }
  const mode = f['trace-mode'];
  if (mode !== 'story' && mode !== 'faithful') throw new FlagError(`invalid argument "${mode}" for "--trace-mode" flag: want story or faithful`);
  if (f['max-pods'] < 1) throw new FlagError(`invalid argument "${f['max-pods']}" for "--max-pods" flag: must be at least 1`);
  if (f['healthz-port'] < 0 || f['healthz-port'] > 65535) throw new FlagError(`invalid argument "${f['healthz-port']}" for "--healthz-port" flag: not a port`);
  if (f['event-qps'] < 0) throw new FlagError(`invalid argument "${f['event-qps']}" for "--event-qps" flag: must not be negative`);
  const capacity = parseKeyValues([f['node-capacity']], 'node-capacity');
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (capacity[r] === undefined || parseQuantity(capacity[r]) === undefined) {
      throw new FlagError(`invalid argument "${f['node-capacity']}" for "--node-capacity" flag: needs a quantity for ${r}`);
    }
  }
  const endpoint = f['tracing-endpoint'];
  return {
    help: false,
    config: {
      kubeconfig: f.kubeconfig,
      runtimeEndpoint: f['container-runtime-endpoint'],
      nodes: names.map((name, i) => ({ name, ip: ips[i] as string, podCidr: podCidr(i) })),
      labels: parseKeyValues(f['node-labels'] ?? [], 'node-labels'),
      registerNode: f['register-node'],
      taints: parseTaints(f['register-with-taints'] ?? []),
      maxPods: f['max-pods'],
      capacity,
      syncFrequencyMs: f['sync-frequency'],
      nodeStatusUpdateFrequencyMs: f['node-status-update-frequency'],
      nodeStatusReportFrequencyMs: 5 * 60_000,
      nodeLeaseDurationSeconds: 40,
      runtimeRequestTimeoutMs: f['runtime-request-timeout'],
      eventQps: f['event-qps'],
      eventBurst: f['event-burst'],
      recordEvents: f['record-events'],
      verbosity: f.v,
      healthz: { host: f['healthz-bind-address'], port: f['healthz-port'] },
      tracing: { ...(endpoint ? { endpoint } : {}), samplingRatePerMillion: rate },
      traceMode: mode,
      profile: PROFILE_1_35,
      apiserverWaitMs: f['apiserver-wait'],
      seed: f.seed,
    },
  };
}
