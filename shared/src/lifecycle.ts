/** Set by `k8s-trace-sim up` on the processes it starts, so they never outlive it. */
export const SUPERVISOR_PID_ENV = 'K8S_TRACE_SIM_SUPERVISOR_PID';

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: servers close first so no
 * new spans start, then the tracer provider shuts down so pending spans leave.
 * A second signal while stopping exits at once. A process started by `up`
 * also stops when `up` itself is gone (even after a SIGKILL), so no orphan is
 * left holding a port.
 */
export function onShutdown(stop: () => Promise<void>, log: (msg: string) => void = () => {}): void {
  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`${why}, shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('received SIGTERM'));
  process.on('SIGINT', () => shutdown('received SIGINT'));
  const supervisor = Number(process.env[SUPERVISOR_PID_ENV]);
  if (Number.isInteger(supervisor) && supervisor > 0) {
    const timer = setInterval(() => {
      try {
        process.kill(supervisor, 0);
      } catch {
        clearInterval(timer);
        shutdown('supervisor exited');
      }
    }, 500);
    timer.unref();
  }
}

/** A process's main: its flags in, resolves once it is serving. */
export type CommandMain = (argv: readonly string[]) => Promise<void>;
