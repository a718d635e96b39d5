import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  formatUsage,
  parseFlags,
  startOtlpReceiver,
  type CommandMain,
  type FlagSpecs,
  type OtlpReceiver,
} from '../../shared/src/index.js';
import { canBind, Supervisor, type ChildSpec } from './supervisor.js';
import { splitHostPort } from './collector.js';

const FLAGS = {
  'data-dir': { type: 'string', default: './.k8s-trace-sim', metavar: 'DIR', help: 'where etcd data, sockets and the kubeconfig live' },
  'otlp-endpoint': { type: 'string', metavar: 'HOST:PORT', help: 'send spans to this OTLP/gRPC endpoint instead of the built-in receiver (default: $OTEL_EXPORTER_OTLP_ENDPOINT)' },
  'otlp-listen': { type: 'string', default: '127.0.0.1:4317', metavar: 'HOST:PORT', help: 'address of the built-in OTLP receiver' },
  'traces-file': { type: 'string', metavar: 'PATH', help: 'the built-in receiver also appends OTLP/JSON lines here' },
  'etcd-port': { type: 'int', default: 2379, metavar: 'PORT', help: 'etcd client port on 127.0.0.1' },
  timing: { type: 'string', default: 'realistic', metavar: 'realistic|fast', help: 'simulated latencies: the reference durations, or milliseconds' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const satisfies FlagSpecs;

export interface UpPlan {
  readonly dataDir: string;
  readonly otlpEndpoint: string;
  readonly builtinReceiver: boolean;
  readonly children: readonly ChildSpec[];
}

/** What `up` will start, from its flags and environment. Pure, so it is tested without processes. */
export function planUp(flags: ReturnType<typeof parseFlags<typeof FLAGS>>, env: NodeJS.ProcessEnv): UpPlan {
  if (flags.timing !== 'realistic' && flags.timing !== 'fast') {
    throw new Error(`invalid --timing "${flags.timing}": want realistic or fast`);
  }
  const dataDir = resolve(flags['data-dir']);
  const external = flags['otlp-endpoint'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const otlpEndpoint = external ?? flags['otlp-listen'];
  const etcdUrl = `http://127.0.0.1:${flags['etcd-port']}`;
  const socket = join(dataDir, 'containerd', 'containerd.sock');
  return {
    dataDir,
    otlpEndpoint,
    builtinReceiver: external === undefined,
    children: [
      {
        name: 'etcd',
        args: [
          'etcd',
          '--name', 'default',
          '--data-dir', join(dataDir, 'etcd'),
          '--listen-client-urls', etcdUrl,
          '--advertise-client-urls', etcdUrl,
          '--experimental-enable-distributed-tracing',
          '--experimental-distributed-tracing-address', otlpEndpoint,
        ],
        ready: { host: '127.0.0.1', port: flags['etcd-port'] },
      },
      {
        name: 'runtime',
        args: ['runtime', '--address', socket, '--timing', flags.timing, '--otlp-endpoint', otlpEndpoint],
        ready: { path: socket },
      },
    ],
  };
}

export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('up', 'Start the simulated control plane, each component as its own process.', FLAGS) + '\n');
    return;
  }
  const plan = planUp(flags, process.env);
  mkdirSync(plan.dataDir, { recursive: true });

  const busy: string[] = [];
  for (const c of plan.children) {
    if ('port' in c.ready && !(await canBind(c.ready.host, c.ready.port))) busy.push(`${c.ready.host}:${c.ready.port} (${c.name})`);
  }
  let receiver: OtlpReceiver | undefined;
  if (plan.builtinReceiver) {
    const { host, port } = splitHostPort(flags['otlp-listen']);
    if (!(await canBind(host, port))) busy.push(`${flags['otlp-listen']} (OTLP receiver; use --otlp-endpoint to send spans to the collector already there)`);
  }
  if (busy.length > 0) throw new Error(`address already in use: ${busy.join(', ')}`);
  if (plan.builtinReceiver) {
    const { host, port } = splitHostPort(flags['otlp-listen']);
    receiver = await startOtlpReceiver({ host, port, tracesFile: flags['traces-file'] });
  }

  let shuttingDown = false;
  const supervisor = new Supervisor((child, code, signal) => {
    if (shuttingDown) return;
    process.stderr.write(`\n${child.spec.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.\n${child.tail()}\n`);
    void stop(1);
  });
  const stop = async (exitCode: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    await supervisor.stopAll();
    await receiver?.close();
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const started = Date.now();
  try {
    const children = plan.children.map((spec) => supervisor.start(spec));
    await Promise.all(children.map((c) => supervisor.waitReady(c)));
  } catch (err) {
    shuttingDown = true;
    await supervisor.stopAll();
    await receiver?.close();
    throw err;
  }
  const lines = [
    `k8s-trace-sim is up in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${plan.dataDir})`,
    `  etcd      http://127.0.0.1:${flags['etcd-port']}`,
    `  runtime   unix://${join(plan.dataDir, 'containerd', 'containerd.sock')}`,
    plan.builtinReceiver
      ? `  OTLP      ${receiver?.endpoint} (built-in receiver${flags['traces-file'] ? `, writing ${flags['traces-file']}` : ''})`
      : `  OTLP      spans go to ${plan.otlpEndpoint}`,
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
};
