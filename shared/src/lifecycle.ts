/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: servers close first so no
 * new spans start, then the tracer provider shuts down so pending spans leave.
 * A second signal while stopping exits at once.
 */
export function onShutdown(stop: () => Promise<void>, log: (msg: string) => void = () => {}): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`received ${signal}, shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** A process's main: its flags in, resolves once it is serving. */
export type CommandMain = (argv: readonly string[]) => Promise<void>;
