import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SUPERVISOR_PID_ENV } from '../../shared/src/index.js';

const CLI = fileURLToPath(new URL('../../../bin/k8s-trace-sim.js', import.meta.url));

export type Endpoint = { host: string; port: number } | { path: string };

/** How to tell a child is ready: something listens at an endpoint, or a check passes. */
export type Readiness = Endpoint | { readonly check: () => Promise<boolean>; readonly what: string };

export interface ChildSpec {
  readonly name: string;
  readonly args: readonly string[];
  /** Where the child serves once it is ready. */
  readonly ready: Readiness;
  readonly env?: NodeJS.ProcessEnv;
}

export interface Child {
  readonly spec: ChildSpec;
  readonly proc: ChildProcess;
  /** The last lines it wrote, for the message when it dies. */
  tail(): string;
}

/** Resolves true if something already accepts connections there. */
export function isListening(ep: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = 'path' in ep ? connect(ep.path) : connect(ep.port, ep.host);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Resolves true if we could bind host:port ourselves (nothing else holds it). */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * Starts and watches the simulator's processes. A child that dies while the
 * others run is reported through `onCrash`; `stopAll` sends SIGTERM to every
 * child (in reverse start order) and SIGKILLs any that outstay the grace time.
 */
export class Supervisor {
  private readonly children: Child[] = [];
  private stopping = false;

  constructor(
    private readonly onCrash: (child: Child, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {}

  start(spec: ChildSpec): Child {
    if (!existsSync(CLI)) throw new Error(`CLI not found at ${CLI}`);
    // A 2 MiB young generation instead of V8's 16 MiB: measured with bench/pods,
    // it saves about 100 MiB across the six processes at the same pods/s.
    // K8S_TRACE_SIM_NODE_FLAGS adds flags after it (later ones win), e.g.
    // "--cpu-prof --cpu-prof-dir=/tmp/prof", which node refuses in NODE_OPTIONS.
    const nodeFlags = ['--max-semi-space-size=2', ...(process.env['K8S_TRACE_SIM_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean)];
    const proc = spawn(process.execPath, [...nodeFlags, CLI, ...spec.args], {
      env: { ...process.env, ...spec.env, [SUPERVISOR_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const keep = (d: Buffer): void => {
      lines.push(...d.toString().split('\n').filter((l) => l.trim() !== ''));
      if (lines.length > 20) lines.splice(0, lines.length - 20);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const child: Child = { spec, proc, tail: () => lines.join('\n') };
    proc.once('exit', (code, signal) => {
      if (!this.stopping) this.onCrash(child, code, signal);
    });
    this.children.push(child);
    return child;
  }

  /** Waits until the child serves, or fails with its last output if it exits or times out first. */
  async waitReady(child: Child, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
        throw new Error(`${child.spec.name} exited before it was ready:\n${child.tail()}`);
      }
      const r = child.spec.ready;
      if ('check' in r ? await r.check().catch(() => false) : await isListening(r)) return;
      if (Date.now() > deadline) throw new Error(`${child.spec.name} was not ready after ${timeoutMs} ms:\n${child.tail()}`);
      await new Promise((res) => setTimeout(res, 'check' in r ? 200 : 50));
    }
  }

  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    for (const c of [...this.children].reverse()) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
      c.proc.kill('SIGTERM');
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  }
}
