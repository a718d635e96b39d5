import { join, resolve } from 'node:path';
import type { parseFlags } from '../../shared/src/index.js';
import type { ChildSpec, Readiness } from './supervisor.js';
import { WEBHOOK_SERVICE, type ClusterFiles } from './cluster-files.js';

export const UP_FLAGS = {
  'data-dir': { type: 'string', default: './.k8s-trace-sim', metavar: 'DIR', help: 'etcd data, sockets, certificates and the kubeconfig' },
  mode: { type: 'string', default: 'story', metavar: 'story|faithful', help: 'story: one tree per pod creation; faithful: the separate traces a real cluster emits' },
  timing: { type: 'string', default: 'realistic', metavar: 'realistic|fast', help: 'simulated latencies: the reference durations, or milliseconds' },
  nodes: { type: 'int', default: 1, metavar: 'N', help: 'simulated nodes, all served by one kubelet process' },
  'otlp-endpoint': { type: 'string', metavar: 'HOST:PORT', help: 'send spans here instead of the built-in receiver (default $OTEL_EXPORTER_OTLP_ENDPOINT)' },
  'otlp-listen': { type: 'string', default: '127.0.0.1:4317', metavar: 'HOST:PORT', help: 'address of the built-in OTLP receiver' },
  'traces-file': { type: 'string', metavar: 'PATH', help: 'the built-in receiver also appends OTLP/JSON lines here' },
  'apiserver-port': { type: 'int', default: 6443, metavar: 'PORT', help: 'apiserver HTTPS port on 127.0.0.1' },
  'etcd-port': { type: 'int', default: 2379, metavar: 'PORT', help: 'etcd client port on 127.0.0.1' },
  'webhook-port': { type: 'int', default: 9443, metavar: 'PORT', help: 'admission webhook HTTPS port on 127.0.0.1' },
  'print-traces': { type: 'bool', default: true, help: 'print each pod-creation trace as a tree when it completes' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

export type UpFlags = ReturnType<typeof parseFlags<typeof UP_FLAGS>>;

export interface UpPlan {
  readonly dataDir: string;
  readonly mode: 'story' | 'faithful';
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
): UpPlan {
  checkUpFlags(flags);
  const dataDir = resolve(flags['data-dir']);
  const mode = flags.mode as 'story' | 'faithful';
  const external = flags['otlp-endpoint'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const otlpEndpoint = external ?? flags['otlp-listen'];
  const etcdUrl = `http://127.0.0.1:${flags['etcd-port']}`;
  const apiserverUrl = `https://127.0.0.1:${flags['apiserver-port']}`;
  const runtimeSocket = join(dataDir, 'containerd', 'containerd.sock');
  const names = nodeNames(flags.nodes);
  return {
    dataDir,
    mode,
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
          '--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address', otlpEndpoint,
        ],
        ready: { host: '127.0.0.1', port: flags['etcd-port'] },
        stage: 1,
      },
      {
        name: 'runtime',
        args: ['runtime', '--address', runtimeSocket, '--timing', flags.timing, '--otlp-endpoint', otlpEndpoint],
        ready: { path: runtimeSocket },
        stage: 1,
      },
      {
        name: 'webhook',
        args: ['webhook', '--port', String(flags['webhook-port']), '--cert-dir', files.webhookCertDir, '--otlp-endpoint', otlpEndpoint],
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
          '--tracing-config-file', join(dataDir, 'config', 'apiserver-tracing.yaml'),
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
          '--tracing-endpoint', otlpEndpoint, '--tracing-sampling-rate-per-million', '1000000',
          '--trace-mode', mode,
        ],
        ready: nodeReady,
        stage: 3,
      },
    ],
  };
}

/** The apiserver's TracingConfiguration, as a k3d/kind tutorial mounts it. */
export function apiserverTracingConfig(endpoint: string): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: TracingConfiguration',
    `endpoint: ${endpoint}`,
    'samplingRatePerMillion: 1000000',
    '',
  ].join('\n');
}
