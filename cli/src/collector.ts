import {
  formatUsage,
  onShutdown,
  parseFlags,
  startOtlpReceiver,
  startQueryServer,
  type CommandMain,
  type QueryServer,
  type FlagSpecs,
} from '../../shared/src/index.js';

const FLAGS = {
  listen: { type: 'string', default: '127.0.0.1:4317', metavar: 'HOST:PORT', help: 'address for the OTLP/gRPC TraceService' },
  'traces-file': { type: 'string', metavar: 'PATH', help: 'append every received batch as an OTLP/JSON line (the Collector file exporter format)' },
  'ui-listen': {
    type: 'string',
    metavar: 'HOST:PORT',
    help: 'also serve the trace viewer and the Jaeger v2 /api/v3 query API here, e.g. 127.0.0.1:16686 (off unless given)',
  },
  'max-spans': { type: 'int', default: 200_000, metavar: 'N', help: 'spans held in memory; the oldest traces are evicted beyond this' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const satisfies FlagSpecs;

/** `host:port` → parts; `[::1]:4317` and a bare `:4317` (all interfaces) too. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]*):(\d+)$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid address "${addr}": want host:port`);
  }
  return { host: m[1] === '' ? '0.0.0.0' : (m[1] as string), port };
}

export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('collector', 'An OTLP/gRPC trace receiver.', FLAGS) + '\n');
    return;
  }
  const { host, port } = splitHostPort(flags.listen);
  // Checked before anything listens, so a bad address starts nothing.
  const ui = flags['ui-listen'] === undefined ? undefined : splitHostPort(flags['ui-listen']);
  let receiver;
  try {
    receiver = await startOtlpReceiver({ host, port, maxSpans: flags['max-spans'], tracesFile: flags['traces-file'] });
  } catch (err) {
    const msg = String((err as Error).message ?? err);
    throw new Error(
      /EADDRINUSE|address already in use|No address added/i.test(msg)
        ? `cannot listen on ${flags.listen}: address already in use`
        : `cannot listen on ${flags.listen}: ${msg}`,
    );
  }
  let query: QueryServer | undefined;
  if (ui) {
    try {
      query = await startQueryServer({ receiver, host: ui.host, port: ui.port });
    } catch (err) {
      await receiver.close();
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'EADDRINUSE'
          ? `cannot listen on ${flags['ui-listen']} (viewer): address already in use`
          : `cannot listen on ${flags['ui-listen']} (viewer): ${(err as Error).message}`,
      );
    }
  }
  process.stderr.write(
    `OTLP/gRPC receiver listening on ${receiver.endpoint}` +
      (flags['traces-file'] ? `, writing OTLP/JSON lines to ${flags['traces-file']}` : '') +
      '\n' +
      (query ? `trace viewer and Jaeger /api/v3 at ${query.url}/\n` : ''),
  );
  onShutdown(async () => {
    const s = receiver.stats();
    process.stderr.write(`received ${s.spansAccepted} spans in ${s.exportRequests} requests, rejected ${s.spansRejected}\n`);
    await query?.close();
    await receiver.close();
  });
};
