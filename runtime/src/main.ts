import { hostname } from 'node:os';
import {
  FlagError,
  formatUsage,
  onShutdown,
  parseFlags,
  startTracing,
  type CommandMain,
} from '../../shared/src/index.js';
import { loadContainerdConfig, type ContainerdFileConfig } from './config-file.js';
import { formatLogLine } from './log-format.js';
import { randomSeed } from './random.js';
import { Runtime } from './runtime.js';
import { bind, buildRuntimeServer, containerdTracers, shutdown } from './server.js';
import { prepareSocket, removeSocket } from './socket.js';
import {
  CONTAINERD_PROFILES,
  CONTAINERD_VERSIONS,
  containerdResource,
  DEFAULT_CONTAINERD_VERSION,
  isContainerdVersion,
  levelEnabled,
  parseLogLevel,
  type LogEntry,
} from './spans.js';
import { TIMING_TABLES, type TimingTable } from './timing.js';
import { tracingSetup } from './tracing-config.js';
import { DEFAULT_POD_CIDR, parseCidr } from './network.js';

const FLAGS = {
  'containerd-version': { type: 'string', default: DEFAULT_CONTAINERD_VERSION, help: `containerd release to imitate: ${CONTAINERD_VERSIONS.join(' or ')}`, metavar: 'VERSION' },
  config: { type: 'string', help: 'path to the configuration file: a containerd config.toml, or a k3s config.toml.tmpl (rendered as k3s v1.27.1 does)', metavar: 'FILE' },
  address: { type: 'string', default: '/run/containerd/containerd.sock', help: "address for containerd's GRPC server", metavar: 'PATH' },
  'tcp-address': { type: 'string', help: 'also serve CRI over TCP on this address', metavar: 'HOST:PORT' },
  timing: { type: 'string', default: 'realistic', help: 'simulated latencies: realistic or fast', metavar: 'TABLE' },
  seed: { type: 'int', help: 'seed for ids and latency jitter (random when unset)', metavar: 'N' },
  'otlp-endpoint': {
    type: 'string',
    help: 'export spans over OTLP/gRPC here: 2.x as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 1.7 as an otlp plugin section with protocol "grpc", insecure',
    metavar: 'HOST:PORT',
  },
  'log-level': { type: 'string', default: 'info', help: 'set the logging level [trace, debug, info, warn, error]', metavar: 'LEVEL' },
  'pod-cidr': { type: 'string', default: DEFAULT_POD_CIDR, help: 'range pod IPs come from', metavar: 'CIDR' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

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
  const version = flags['containerd-version'];
  if (!isContainerdVersion(version)) {
    throw new FlagError(`invalid argument "${version}" for "--containerd-version" flag: want ${CONTAINERD_VERSIONS.join(' or ')}`);
  }
  const profile = CONTAINERD_PROFILES[version];
  // containerd loads its config before anything else and exits on a bad one.
  const file: ContainerdFileConfig | undefined = flags.config === undefined ? undefined : loadContainerdConfig(profile, flags.config);

  const write = (entry: LogEntry): void => {
    if (levelEnabled(entry.level, logLevel)) process.stderr.write(formatLogLine(new Date(), entry) + '\n');
  };
  write({ level: 'info', message: 'starting containerd', fields: { revision: profile.revision, version: profile.runtimeVersion } });

  const setup = tracingSetup(profile, file, process.env, flags['otlp-endpoint']);
  for (const entry of setup.logs) write(entry);
  const tracing = startTracing({
    resource: containerdResource(profile, { env: process.env, serviceName: setup.serviceName, hostName: hostname() }),
    enabled: setup.enabled,
    endpoint: setup.endpoint,
    // Unused when tracing is off: startTracing then samples nothing.
    sampler: setup.sampler,
  });

  const seed = (flags.seed ?? randomSeed()) >>> 0;
  // Not a containerd line: the seed lets a run be replayed with --seed.
  write({ level: 'info', message: 'simulated runtime', fields: { seed: String(seed), timing: timing.name } });
  const runtime = new Runtime({ timing, seed, logLevel, writeLog: write, podCidr: flags['pod-cidr'], containerd: profile });
  const server = buildRuntimeServer({
    runtime,
    tracing: containerdTracers(tracing, profile),
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
      // Server.Stop logs a plugin that fails to close (an export that cannot reach its collector) and goes on.
      await tracing.shutdown().catch((err: unknown) =>
        write({ level: 'error', message: 'failed to close plugin', error: err instanceof Error ? err.message : String(err), fields: { id: 'io.containerd.internal.v1.tracing' } }),
      );
      removeSocket(address);
    },
    (message) => write({ level: 'info', message }),
  );
};
