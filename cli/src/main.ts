import { FlagError, type CommandMain } from '../../shared/src/index.js';

interface Command {
  readonly summary: string;
  readonly load: () => Promise<CommandMain>;
}

// Each process is imported only when asked for, so `k8s-trace-sim etcd` does
// not load the CRI protos and so on.
const COMMANDS: Readonly<Record<string, Command>> = {
  etcd: {
    summary: 'an etcd v3 server (gRPC KV, Watch, Lease, Maintenance) with etcd 3.5 tracing',
    load: async () => (await import('../../etcd-sim/src/main.js')).main,
  },
  runtime: {
    summary: 'a containerd-like CRI runtime (runtime.v1 RuntimeService and ImageService)',
    load: async () => (await import('../../runtime/src/main.js')).main,
  },
  apiserver: {
    summary: 'kube-apiserver: the Kubernetes REST API over HTTPS, stored in etcd, calling admission webhooks',
    load: async () => (await import('../../apiserver/src/main.js')).main,
  },
  scheduler: {
    summary: 'kube-scheduler: binds each unscheduled pod to a ready node with room',
    load: async () => (await import('../../scheduler/src/main.js')).main,
  },
  kubelet: {
    summary: 'kubelet: runs the pods bound to N simulated nodes through the CRI runtime',
    load: async () => (await import('../../kubelet/src/main.js')).main,
  },
  webhook: {
    summary: 'a mutating admission webhook (AdmissionReview v1 over HTTPS) that labels and annotates pods',
    load: async () => (await import('../../webhook/src/main.js')).main,
  },
  pki: {
    summary: "write the cluster's CA, certificates and kubeconfigs, for processes started without `up`",
    load: async () => (await import('./pki-command.js')).main,
  },
  up: {
    summary: 'start the whole simulator, each component as its own process, with a built-in OTLP receiver',
    load: async () => (await import('./up.js')).main,
  },
  collector: {
    summary: 'an OTLP/gRPC trace receiver that keeps spans in memory and can write OTLP/JSON lines',
    load: async () => (await import('./collector.js')).main,
  },
  verify: {
    summary: 'check that a trace backend holds every span a run sent (the run\'s sent.jsonl manifest)',
    load: async () => (await import('./verify.js')).main,
  },
};

function usage(): string {
  const lines = ['k8s-trace-sim: a simulated Kubernetes control plane that emits real traces.', '', 'Usage:', '  k8s-trace-sim <command> [flags]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)}${c.summary}`);
  lines.push('', 'Run `k8s-trace-sim <command> --help` for a command\'s flags.');
  return lines.join('\n');
}

export async function run(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    if (name === undefined) process.exitCode = 1;
    return;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Error: unknown command "${name}" for "k8s-trace-sim"\nRun 'k8s-trace-sim --help' for usage.\n`);
    process.exit(1);
  }
  try {
    const main = await command.load();
    await main(rest);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`Error: ${err.message}\nRun 'k8s-trace-sim ${name} --help' for usage.\n`);
    } else {
      process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  }
}
