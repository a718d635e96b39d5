import { hostname } from 'node:os';
import {
  FlagError,
  formatUsage,
  KubeClient,
  loadKubeconfig,
  onShutdown,
  parseFlags,
  type CommandMain,
  type KubeconfigCredentials,
} from '../../shared/src/index.js';
import { waitForApiserver } from '../../shared/src/apiserver-wait.js';
import { klog } from '../../shared/src/klog.js';
import { randomSeed, seededRandom } from '../../shared/src/random.js';
import type { TraceMode } from './objects.js';
import { Scheduler } from './scheduler.js';

// kube-scheduler's own flag names where one exists; the rest are the simulator's.
const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to kubeconfig file with authorization and master location information', metavar: 'FILE' },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig)', metavar: 'URL' },
  'leader-elect': {
    type: 'bool',
    default: false,
    help: 'Start a leader election client before scheduling. Not simulated: the simulator runs one scheduler, so true only logs a warning',
  },
  v: { type: 'int', default: 0, help: 'number for the log level verbosity (2 logs every binding)', metavar: 'LEVEL' },
  'trace-mode': { type: 'string', default: 'story', help: 'story: forward the pod\'s traceparent annotation on the binding; faithful: send none', metavar: 'MODE' },
  seed: { type: 'int', help: 'seed for tie-breaks between equally good nodes (random when unset)', metavar: 'N' },
  'record-events': { type: 'bool', default: true, help: 'post Scheduled and FailedScheduling events' },
  'apiserver-wait': { type: 'duration', default: 30_000, help: 'how long to wait for the apiserver at start-up before giving up', metavar: 'DURATION' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const;

/** client-go's default User-Agent for kube-scheduler 1.35, with the "/scheduler" suffix its clients add. */
export const USER_AGENT = 'kube-scheduler/v1.35.0 (linux/amd64) kubernetes/66452049f3d/scheduler';

export function parseTraceMode(raw: string): TraceMode {
  if (raw === 'story' || raw === 'faithful') return raw;
  throw new FlagError(`invalid argument "${raw}" for "--trace-mode" flag: want story or faithful`);
}

function credentials(path: string | undefined, master: string | undefined): KubeconfigCredentials {
  if (!path) throw new FlagError('--kubeconfig is required: the simulated scheduler has no in-cluster configuration');
  let creds: KubeconfigCredentials;
  try {
    creds = loadKubeconfig(path);
  } catch (err) {
    throw new Error(`invalid kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return master ? { ...creds, server: master } : creds;
}

export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('scheduler', 'A kube-scheduler: binds pending pods to Ready nodes with room. Emits no spans, like every kube-scheduler release.', FLAGS) + '\n');
    return;
  }
  const traceMode = parseTraceMode(flags['trace-mode']);
  const creds = credentials(flags.kubeconfig, flags.master);
  const log = klog(flags.v);
  // No tracing step: kube-scheduler has no tracing support in any release.
  const seed = (flags.seed ?? randomSeed()) >>> 0;
  log.info('server.go:167', 'Starting Kubernetes Scheduler', { version: 'v1.35.0' });
  log.info('server.go:169', 'Simulated scheduler', { traceMode, seed });
  if (flags['leader-elect']) log.warn('server.go:200', 'Leader election is not simulated; scheduling as the only scheduler');

  const client = new KubeClient({ ...creds, userAgent: USER_AGENT, timeoutMs: 60_000 });
  // The apiserver connection does not hold the event loop open; the scheduler lives until it is told to stop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await waitForApiserver(client, creds.server, flags['apiserver-wait']);
  } catch (err) {
    clearInterval(keepAlive);
    client.close();
    throw err;
  }
  const scheduler = new Scheduler({
    client,
    traceMode,
    random: seededRandom(seed),
    log,
    recordEvents: flags['record-events'],
    instance: `default-scheduler-${hostname()}`,
  });
  scheduler.start();
  onShutdown(
    async () => {
      clearInterval(keepAlive);
      await scheduler.stop();
      client.close();
    },
    (msg) => log.info('server.go:270', msg),
  );
};
