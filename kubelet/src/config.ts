import { FlagError, parseFlags, type FlagSpecs } from '../../shared/src/index.js';
import { parseQuantity } from '../../shared/src/k8s/quantity.js';
import { BACKGROUND_TRAFFIC, type BackgroundTraffic } from './background.js';
import {
  loadKubeletConfigFile,
  parseFeatureGatesFlag,
  setFeatureGates,
  validateKubeletConfiguration,
  type KubeletConfigFile,
  type Notice,
} from './config-file.js';
import { KUBELET_PROFILES, type KubeletProfile, type TraceMode } from './spans.js';

/**
 * The kubelet's flags (the real kubelet's names where one exists) and its
 * --config KubeletConfiguration, read once into a typed, validated
 * configuration. As in the real kubelet, a flag given on the command line
 * wins over the file, and the file over the defaults; the merged result is
 * validated as ValidateKubeletConfiguration does.
 */
export const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server', metavar: 'FILE' },
  config: {
    type: 'string',
    help: 'The Kubelet will load its initial configuration from this file (a KubeletConfiguration, kubelet.config.k8s.io/v1beta1, YAML or JSON); command-line flags override it',
    metavar: 'FILE',
  },
  'kube-version': { type: 'string', default: '1.35', help: 'the kubelet release to imitate (its spans, instrumentation versions, gates and messages): 1.27 or 1.35', metavar: 'VERSION' },
  'feature-gates': { type: 'stringArray', help: 'A set of key=value pairs that describe feature gates; KubeletTracing is the one simulated (beta, default true, in 1.27; GA and locked to true from 1.34)', metavar: 'GATES' },
  'background-traffic': {
    type: 'string',
    default: 'full',
    help: 'full: relists every second, housekeeping, lease, node status, events and apiserver probes, all traced; low: a tenth of the relists traced, probes ten times rarer; off: no background spans (what the node needs still runs, untraced)',
    metavar: 'MODE',
  },
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
  'tracing-endpoint': {
    type: 'string',
    help: 'OTLP/gRPC endpoint for spans: sets the KubeletConfiguration tracing.endpoint (tracing is on when the KubeletTracing gate is and a tracing block is set)',
    metavar: 'HOST:PORT',
  },
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
  /** On when the KubeletTracing gate is and a tracing block is configured; no endpoint means OTLP's default. */
  readonly tracing: { readonly enabled: boolean; readonly endpoint?: string; readonly samplingRatePerMillion: number };
  /** The effective feature gates (the simulated ones with their defaults, and whatever else was set). */
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly background: BackgroundTraffic;
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

/** The same flags without defaults: parsing with it says which flags the command line gave. */
const GIVEN_ONLY: FlagSpecs = Object.fromEntries(Object.entries(FLAGS).map(([k, spec]) => [k, { type: spec.type, help: spec.help }]));

export interface ParsedKubelet {
  readonly help: false;
  readonly config: KubeletConfig;
  /** What loading the configuration logs once logging is up (lenient decoding, GA gates set). */
  readonly notices: readonly Notice[];
}

function profileFor(version: string): KubeletProfile {
  const p = KUBELET_PROFILES[version];
  if (!p) throw new FlagError(`invalid argument "${version}" for "--kube-version" flag: want ${Object.keys(KUBELET_PROFILES).join(' or ')}`);
  return p;
}

export function parseKubeletFlags(argv: readonly string[]): { help: true } | ParsedKubelet {
  const f = parseFlags(argv, FLAGS);
  if (f.help) return { help: true };
  const given = parseFlags(argv, GIVEN_ONLY) as Partial<Record<keyof typeof FLAGS, unknown>>;
  if (!f.kubeconfig) throw new FlagError('--kubeconfig is required: the simulated kubelet has no standalone mode');
  const profile = profileFor(f['kube-version']);
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
  const background = f['background-traffic'] as BackgroundTraffic;
  if (!BACKGROUND_TRAFFIC.includes(background)) throw new FlagError(`invalid argument "${background}" for "--background-traffic" flag: want full, low or off`);
  const capacity = parseKeyValues([f['node-capacity']], 'node-capacity');
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (capacity[r] === undefined || parseQuantity(capacity[r]) === undefined) {
      throw new FlagError(`invalid argument "${f['node-capacity']}" for "--node-capacity" flag: needs a quantity for ${r}`);
    }
  }
  let flagGates: Record<string, boolean>;
  try {
    flagGates = parseFeatureGatesFlag(f['feature-gates'] ?? []);
  } catch (err) {
    throw new FlagError(`invalid argument "${(f['feature-gates'] ?? []).join(',')}" for "--feature-gates" flag: ${(err as Error).message}`);
  }
  const gateError = (err: unknown): Error => new Error(`failed to set feature gates from initial flags-based config: ${(err as Error).message}`);
  const known = { KubeletTracing: profile.tracingGate };
  // The command line's gates are applied before the file is even read.
  try {
    setFeatureGates(known, flagGates);
  } catch (err) {
    throw gateError(err);
  }
  const notices: Notice[] = [];
  let file: KubeletConfigFile = {};
  if (f.config) {
    const loaded = loadKubeletConfigFile(f.config, profile.name === '1.27' ? '1.27' : '1.35', profile.configLoadErrorPathFirst);
    file = loaded.config;
    notices.push(...loaded.notices);
  }
  // kubeletConfigFlagPrecedence: the flags given, then the file, then the defaults; gates merge per key.
  const pick = <T>(flag: keyof typeof FLAGS, fromFile: T | undefined, fallback: T): T => (given[flag] !== undefined ? (given[flag] as T) : (fromFile ?? fallback));
  let gates: Record<string, boolean>;
  try {
    const set = setFeatureGates(known, { ...file.featureGates, ...flagGates });
    gates = set.enabled;
    notices.push(...set.notices);
  } catch (err) {
    throw gateError(err);
  }
  let tracingBlock = file.tracing;
  if (given['tracing-endpoint'] !== undefined) tracingBlock = { ...tracingBlock, endpoint: given['tracing-endpoint'] as string };
  if (tracingBlock && given['tracing-sampling-rate-per-million'] !== undefined) tracingBlock = { ...tracingBlock, samplingRatePerMillion: rate };
  const taints = given['register-with-taints'] !== undefined ? parseTaints(f['register-with-taints'] ?? []) : (file.registerWithTaints ?? []);
  const updateMs = pick('node-status-update-frequency', file.nodeStatusUpdateFrequencyMs, f['node-status-update-frequency']);
  // v1beta1 defaulting: an unset report frequency follows an update frequency the file sets, else 5m.
  const reportMs = file.nodeStatusReportFrequencyMs ?? file.nodeStatusUpdateFrequencyMs ?? 5 * 60_000;
  const merged = {
    maxPods: pick('max-pods', file.maxPods, f['max-pods']),
    eventRecordQPS: pick('event-qps', file.eventRecordQPS, f['event-qps']),
    eventBurst: pick('event-burst', file.eventBurst, f['event-burst']),
    healthzPort: pick('healthz-port', file.healthzPort, f['healthz-port']),
    nodeLeaseDurationSeconds: file.nodeLeaseDurationSeconds ?? 40,
    containerRuntimeEndpoint: pick('container-runtime-endpoint', file.containerRuntimeEndpoint, f['container-runtime-endpoint']),
  };
  const tracingGate = gates['KubeletTracing'] === true;
  const invalid = validateKubeletConfiguration({ ...merged, registerWithTaints: taints, tracingEnabledByGate: tracingGate, tracing: tracingBlock });
  // %s of the internal KubeletConfiguration prints its embedded TypeMeta's String(), emptied by conversion.
  if (invalid) throw new Error(`failed to validate kubelet configuration, error: ${invalid}, path: &TypeMeta{Kind:,APIVersion:,}`);
  const endpoint = tracingBlock?.endpoint;
  return {
    help: false,
    notices,
    config: {
      kubeconfig: f.kubeconfig,
      runtimeEndpoint: merged.containerRuntimeEndpoint,
      nodes: names.map((name, i) => ({ name, ip: ips[i] as string, podCidr: podCidr(i) })),
      labels: parseKeyValues(f['node-labels'] ?? [], 'node-labels'),
      registerNode: pick('register-node', file.registerNode, f['register-node']),
      taints: taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect as Taint['effect'] })),
      maxPods: merged.maxPods,
      capacity,
      syncFrequencyMs: pick('sync-frequency', file.syncFrequencyMs, f['sync-frequency']),
      nodeStatusUpdateFrequencyMs: updateMs,
      nodeStatusReportFrequencyMs: reportMs,
      nodeLeaseDurationSeconds: merged.nodeLeaseDurationSeconds,
      runtimeRequestTimeoutMs: pick('runtime-request-timeout', file.runtimeRequestTimeoutMs, f['runtime-request-timeout']),
      eventQps: merged.eventRecordQPS,
      eventBurst: merged.eventBurst,
      recordEvents: f['record-events'],
      verbosity: f.v,
      healthz: { host: pick('healthz-bind-address', file.healthzBindAddress, f['healthz-bind-address']), port: merged.healthzPort },
      tracing: {
        enabled: tracingGate && tracingBlock !== undefined,
        ...(endpoint ? { endpoint } : {}),
        samplingRatePerMillion: tracingBlock ? (tracingBlock.samplingRatePerMillion ?? 0) : rate,
      },
      featureGates: gates,
      background,
      traceMode: mode,
      profile,
      apiserverWaitMs: f['apiserver-wait'],
      seed: f.seed,
    },
  };
}
