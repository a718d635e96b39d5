import {
  FlagError,
  formatUsage,
  onShutdown,
  parentBasedAlwaysOn,
  parseFlags,
  startTracing,
  type CommandMain,
} from '../../shared/src/index.js';
import { CONTAINERD } from './cri-messages.js';
import { formatLogLine } from './log-format.js';
import { randomSeed } from './random.js';
import { Runtime } from './runtime.js';
import { bind, buildRuntimeServer, containerdGrpcTracing, shutdown } from './server.js';
import { prepareSocket, removeSocket } from './socket.js';
import { containerdResource, levelEnabled, parseLogLevel, type LogEntry } from './spans.js';
import { TIMING_TABLES, type TimingTable } from './timing.js';
import { tracingDecision } from './tracing-config.js';
import { DEFAULT_POD_CIDR, parseCidr } from './network.js';

const FLAGS = {
  address: { type: 'string', default: '/run/containerd/containerd.sock', help: "address for containerd's GRPC server", metavar: 'PATH' },
  'tcp-address': { type: 'string', help: 'also serve CRI over TCP on this address', metavar: 'HOST:PORT' },
  timing: { type: 'string', default: 'realistic', help: 'simulated latencies: realistic or fast', metavar: 'TABLE' },
  seed: { type: 'int', help: 'seed for ids and latency jitter (random when unset)', metavar: 'N' },
  'otlp-endpoint': { type: 'string', help: 'export spans over OTLP/gRPC here (otherwise OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)', metavar: 'HOST:PORT' },
  'log-level': { type: 'string', default: 'info', help: 'set the logging level [trace, debug, info, warn, error]', metavar: 'LEVEL' },
  'pod-cidr': { type: 'string', default: DEFAULT_POD_CIDR, help: 'range pod IPs come from', metavar: 'CIDR' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

/** containerd 2.1.4's commit, which it reports as `revision` on start. */
const REVISION = '75cb2b7193e4e490e9fbdc236c0e811ccaba3376';

export const main: CommandMain = async (argv) => {
  const started = performance.now();
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('runtime', 'A containerd-like CRI runtime: runtime.v1 RuntimeService and ImageService on a unix socket.', FLAGS) + '\n');
    return;
  }
  const timing: TimingTable | undefined = TIMING_TABLES[flags.timing as keyof typeof TIMING_TABLES];
  if (!timing) throw new FlagError(`invalid argument "${flags.timing}" for "--timing" flag: want realistic or fast`);
  const logLevel = parseLogLevel(flags['log-level']);
  if (!logLevel) throw new FlagError(`invalid argument "${flags['log-level']}" for "--log-level" flag: not a valid logrus Level: "${flags['log-level']}"`);
  if (!parseCidr(flags['pod-cidr'])) throw new FlagError(`invalid argument "${flags['pod-cidr']}" for "--pod-cidr" flag: want an IPv4 CIDR between /8 and /30`);

  const write = (entry: LogEntry): void => {
    if (levelEnabled(entry.level, logLevel)) process.stderr.write(formatLogLine(new Date(), entry) + '\n');
  };
  write({ level: 'info', message: 'starting containerd', fields: { revision: REVISION, version: CONTAINERD.runtimeVersion } });

  const decision = tracingDecision(process.env, flags['otlp-endpoint']);
  if (decision.enabled) {
    for (const w of decision.warnings) write({ level: 'warning', message: w });
  } else if (decision.reason.startsWith('skip plugin')) {
    write({ level: 'info', message: 'skip loading plugin', error: decision.reason, fields: { id: 'io.containerd.internal.v1.tracing', type: 'io.containerd.internal.v1' } });
  } else {
    write({ level: 'warning', message: 'failed to load plugin', error: decision.reason, fields: { id: 'io.containerd.tracing.processor.v1.otlp', type: 'io.containerd.tracing.processor.v1' } });
  }
  const tracing = startTracing({
    resource: containerdResource(process.env),
    enabled: decision.enabled,
    endpoint: decision.enabled ? decision.endpoint : undefined,
    // Unused when tracing is off: startTracing then samples nothing.
    sampler: decision.enabled ? decision.sampler : parentBasedAlwaysOn(),
  });

  const seed = (flags.seed ?? randomSeed()) >>> 0;
  // Not a containerd line: the seed lets a run be replayed with --seed.
  write({ level: 'info', message: 'simulated runtime', fields: { seed: String(seed), timing: timing.name } });
  const runtime = new Runtime({ timing, seed, logLevel, writeLog: write, podCidr: flags['pod-cidr'] });
  const server = buildRuntimeServer({
    runtime,
    tracing: containerdGrpcTracing(tracing),
    log: (message) => write({ level: 'info', message }),
  });
  const address = flags.address;
  await prepareSocket(address);
  const listen = async (addr: string): Promise<void> => {
    try {
      await bind(server, addr);
    } catch (err) {
      throw new Error(`failed to serve on ${addr}: ${err instanceof Error ? err.message : String(err)}`);
    }
    write({ level: 'info', message: 'serving...', fields: { address: addr } });
  };
  await listen(address);
  const tcp = flags['tcp-address'];
  if (tcp !== undefined) await listen(tcp);
  write({ level: 'info', message: `containerd successfully booted in ${((performance.now() - started) / 1000).toFixed(6)}s` });

  onShutdown(
    async () => {
      write({ level: 'info', message: 'Stop CRI service' });
      await shutdown(server);
      runtime.close();
      await tracing.shutdown();
      removeSocket(address);
    },
    (message) => write({ level: 'info', message }),
  );
};
