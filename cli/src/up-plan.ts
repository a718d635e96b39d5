import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { parseFlags } from '../../shared/src/index.js';
import type { ChildSpec, Readiness } from './supervisor.js';
import { WEBHOOK_SERVICE, type ClusterFiles } from './cluster-files.js';

export const UP_FLAGS = {
  'data-dir': { type: 'string', default: './.k8s-trace-sim', metavar: 'DIR', help: 'etcd data, sockets, certificates and the kubeconfig' },
  mode: { type: 'string', default: 'story', metavar: 'story|faithful', help: 'story: one tree per pod creation; faithful: the separate traces a real cluster emits' },
  'kube-version': { type: 'string', default: '1.35', metavar: 'VERSION', help: 'the Kubernetes release whose traces to emit: 1.27 (k3s v1.27.1: etcd 3.5.7, containerd 1.7.1) or 1.35 (etcd 3.5.21, containerd 2.1.4)' },
  'config-dir': { type: 'string', metavar: 'DIR', help: "the components' own tracing files, laid out as in the k3d tutorial: config/apiserver-tracing.yaml, config/kubelet-tracing.yaml, config.toml.tmpl (or config.toml); components without a file there run untraced" },
  'background-traffic': { type: 'string', default: 'full', metavar: 'full|low|off', help: "a real cluster's constant traffic (leases, PLEG relists, node status, health probes): at its real rates, ten times rarer, or none" },
  timing: { type: 'string', default: 'realistic', metavar: 'realistic|fast', help: 'simulated latencies: the reference durations, or milliseconds' },
  nodes: { type: 'int', default: 1, metavar: 'N', help: 'simulated nodes, all served by one kubelet process' },
  'otlp-endpoint': { type: 'string', metavar: 'HOST:PORT', help: 'send spans here instead of the built-in receiver (default $OTEL_EXPORTER_OTLP_ENDPOINT)' },
  'otlp-listen': { type: 'string', default: '127.0.0.1:4317', metavar: 'HOST:PORT', help: 'address of the built-in OTLP receiver' },
  'ui-listen': { type: 'string', default: '127.0.0.1:16686', metavar: 'HOST:PORT', help: "the built-in receiver's trace viewer and Jaeger v2 /api/v3 query API (port 0: any free port; \"off\": none)" },
  'traces-file': { type: 'string', metavar: 'PATH', help: 'the built-in receiver also appends OTLP/JSON lines here' },
  'apiserver-port': { type: 'int', default: 6443, metavar: 'PORT', help: 'apiserver HTTPS port on 127.0.0.1' },
  'etcd-port': { type: 'int', default: 2379, metavar: 'PORT', help: 'etcd client port on 127.0.0.1' },
  'webhook-port': { type: 'int', default: 9443, metavar: 'PORT', help: 'admission webhook HTTPS port on 127.0.0.1' },
  'print-traces': { type: 'bool', default: true, help: 'print each pod-creation trace as a tree when it completes' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

export type UpFlags = ReturnType<typeof parseFlags<typeof UP_FLAGS>>;

/**
 * What each version profile runs: the apiserver and kubelet of that release,
 * and the etcd and containerd it ships with (the 1.27 profile is the k3d
 * tutorial's k3s v1.27.1+k3s1).
 */
export const KUBE_VERSIONS = {
  '1.27': { etcd: '3.5.7', containerd: '1.7.1', tracingConfigApiVersion: 'apiserver.config.k8s.io/v1beta1' },
  '1.35': { etcd: '3.5.21', containerd: '2.1.4', tracingConfigApiVersion: 'apiserver.config.k8s.io/v1' },
} as const;
export type KubeVersion = keyof typeof KUBE_VERSIONS;

export function isKubeVersion(v: string): v is KubeVersion {
  return Object.prototype.hasOwnProperty.call(KUBE_VERSIONS, v);
}

/** The files `--config-dir` may hold, where the k3d tutorial mounts them. */
export interface ConfigDirFiles {
  readonly apiserverTracing?: string;
  readonly kubeletConfig?: string;
  readonly containerdConfig?: string;
}

/** Finds the tutorial's files in `dir`; a missing one leaves that component untraced. */
export function configDirFiles(dir: string, exists: (p: string) => boolean = existsSync): ConfigDirFiles {
  const first = (...paths: string[]): string | undefined => paths.map((p) => join(dir, p)).find(exists);
  const apiserverTracing = first('config/apiserver-tracing.yaml');
  const kubeletConfig = first('config/kubelet-tracing.yaml');
  const containerdConfig = first('config.toml.tmpl', 'config.toml');
  return {
    ...(apiserverTracing ? { apiserverTracing } : {}),
    ...(kubeletConfig ? { kubeletConfig } : {}),
    ...(containerdConfig ? { containerdConfig } : {}),
  };
}

export interface UpPlan {
  readonly dataDir: string;
  readonly mode: 'story' | 'faithful';
  readonly kubeVersion: KubeVersion;
  /** Set with --config-dir: tracing comes from the components' own files. */
  readonly configDir?: string;
  readonly otlpEndpoint: string;
  readonly builtinReceiver: boolean;
  readonly apiserverUrl: string;
  readonly runtimeSocket: string;
  readonly nodeNames: readonly string[];
  readonly etcdUrl: string;
  /**
   * Child processes. Each stage starts once the stage before it is ready:
   * 1 etcd, runtime, webhook; 2 apiserver; 3 scheduler and kubelet (after
   * `up` has registered the webhook, so no pod is created without it).
   */
  readonly children: ReadonlyArray<ChildSpec & { readonly stage: 1 | 2 | 3 }>;
}

/** Validates `up`'s flags; throws one message naming the bad value. */
export function checkUpFlags(flags: UpFlags): void {
  if (flags.timing !== 'realistic' && flags.timing !== 'fast') throw new Error(`invalid --timing "${flags.timing}": want realistic or fast`);
  if (flags.mode !== 'story' && flags.mode !== 'faithful') throw new Error(`invalid --mode "${flags.mode}": want story or faithful`);
  if (!(flags.nodes >= 1 && flags.nodes <= 1000)) throw new Error(`invalid --nodes ${flags.nodes}: want 1 to 1000`);
  if (!isKubeVersion(flags['kube-version'])) {
    throw new Error(`invalid --kube-version "${flags['kube-version']}": want one of ${Object.keys(KUBE_VERSIONS).join(', ')}`);
  }
  const bg = flags['background-traffic'];
  if (bg !== 'full' && bg !== 'low' && bg !== 'off') throw new Error(`invalid --background-traffic "${bg}": want full, low or off`);
}

/** The tutorial's files in `dir`, or one message saying why there are none. */
export function checkConfigDir(dir: string, exists: (p: string) => boolean = existsSync): ConfigDirFiles {
  if (!exists(dir)) throw new Error(`--config-dir ${dir}: no such directory`);
  const found = configDirFiles(dir, exists);
  if (Object.keys(found).length === 0) {
    throw new Error(`--config-dir ${dir} holds none of config/apiserver-tracing.yaml, config/kubelet-tracing.yaml, config.toml.tmpl, config.toml`);
  }
  return found;
}

export function nodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node-${i + 1}`);
}

/**
 * Everything `up` starts, with the real flags each component takes. Pure:
 * the file paths come in, so it is tested without processes.
 */
export function planUp(
  flags: UpFlags,
  env: NodeJS.ProcessEnv,
  files: Pick<ClusterFiles, 'pkiDir' | 'apiserverCert' | 'apiserverKey' | 'webhookCertDir' | 'schedulerKubeconfig' | 'kubeletKubeconfig'>,
  nodeReady: Readiness,
  exists: (p: string) => boolean = existsSync,
): UpPlan {
  checkUpFlags(flags);
  const dataDir = resolve(flags['data-dir']);
  const mode = flags.mode as 'story' | 'faithful';
  const kubeVersion = flags['kube-version'] as KubeVersion;
  const bundle = KUBE_VERSIONS[kubeVersion];
  const configDir = flags['config-dir'] !== undefined ? resolve(flags['config-dir']) : undefined;
  const own = configDir !== undefined ? checkConfigDir(configDir, exists) : undefined;
  const external = flags['otlp-endpoint'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const otlpEndpoint = external ?? flags['otlp-listen'];
  const etcdUrl = `http://127.0.0.1:${flags['etcd-port']}`;
  const apiserverUrl = `https://127.0.0.1:${flags['apiserver-port']}`;
  const runtimeSocket = join(dataDir, 'containerd', 'containerd.sock');
  const names = nodeNames(flags.nodes);
  // With --config-dir each component traces as its own file says (the files
  // name their endpoint), and one without a file stays untraced, as a real
  // component without tracing configuration does.
  const etcdTracing = own ? [] : ['--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address', otlpEndpoint];
  const runtimeTracing = own ? (own.containerdConfig ? ['--config', own.containerdConfig] : []) : ['--otlp-endpoint', otlpEndpoint];
  const webhookTracing = own ? [] : ['--otlp-endpoint', otlpEndpoint];
  const apiserverTracing = own
    ? own.apiserverTracing
      ? ['--feature-gates', 'APIServerTracing=true', '--tracing-config-file', own.apiserverTracing]
      : []
    : ['--tracing-config-file', join(dataDir, 'config', 'apiserver-tracing.yaml')];
  const kubeletTracing = own
    ? own.kubeletConfig
      ? ['--config', own.kubeletConfig]
      : []
    : ['--tracing-endpoint', otlpEndpoint, '--tracing-sampling-rate-per-million', '1000000'];
  return {
    dataDir,
    mode,
    kubeVersion,
    ...(configDir !== undefined ? { configDir } : {}),
    otlpEndpoint,
    builtinReceiver: external === undefined,
    apiserverUrl,
    runtimeSocket,
    nodeNames: names,
    etcdUrl,
    children: [
      {
        name: 'etcd',
        args: [
          'etcd', '--name', 'default', '--data-dir', join(dataDir, 'etcd'),
          '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
          '--etcd-version', bundle.etcd,
          ...etcdTracing,
        ],
        ready: { host: '127.0.0.1', port: flags['etcd-port'] },
        stage: 1,
      },
      {
        name: 'runtime',
        args: ['runtime', '--address', runtimeSocket, '--timing', flags.timing, '--containerd-version', bundle.containerd, ...runtimeTracing],
        ready: { path: runtimeSocket },
        stage: 1,
      },
      {
        name: 'webhook',
        args: ['webhook', '--port', String(flags['webhook-port']), '--cert-dir', files.webhookCertDir, ...webhookTracing],
        ready: { host: '127.0.0.1', port: flags['webhook-port'] },
        stage: 1,
      },
      {
        name: 'apiserver',
        args: [
          'apiserver',
          '--bind-address', '127.0.0.1', '--secure-port', String(flags['apiserver-port']),
          '--etcd-servers', etcdUrl,
          '--tls-cert-file', files.apiserverCert, '--tls-private-key-file', files.apiserverKey,
          '--client-ca-file', join(files.pkiDir, 'ca.crt'),
          '--kube-version', kubeVersion,
          ...apiserverTracing,
          '--trace-mode', mode,
          '--webhook-service-address', `${WEBHOOK_SERVICE.namespace}/${WEBHOOK_SERVICE.name}=127.0.0.1:${flags['webhook-port']}`,
        ],
        ready: { host: '127.0.0.1', port: flags['apiserver-port'] },
        stage: 2,
      },
      {
        name: 'scheduler',
        args: ['scheduler', '--kubeconfig', files.schedulerKubeconfig, '--trace-mode', mode],
        ready: { check: async () => true, what: 'started' },
        stage: 3,
      },
      {
        name: 'kubelet',
        args: [
          'kubelet', '--kubeconfig', files.kubeletKubeconfig,
          '--container-runtime-endpoint', `unix://${runtimeSocket}`,
          '--nodes', String(flags.nodes),
          '--kube-version', kubeVersion,
          ...kubeletTracing,
          '--background-traffic', flags['background-traffic'],
          '--trace-mode', mode,
        ],
        ready: nodeReady,
        stage: 3,
      },
    ],
  };
}

/** The apiserver's TracingConfiguration, as a k3d/kind tutorial mounts it, in the newest apiVersion the release reads. */
export function apiserverTracingConfig(endpoint: string, kubeVersion: KubeVersion): string {
  return [
    `apiVersion: ${KUBE_VERSIONS[kubeVersion].tracingConfigApiVersion}`,
    'kind: TracingConfiguration',
    `endpoint: ${endpoint}`,
    'samplingRatePerMillion: 1000000',
    '',
  ].join('\n');
}
