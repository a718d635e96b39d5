import {
  formatUsage,
  onShutdown,
  parseFlags,
  startOtlpReceiver,
  type CommandMain,
  type FlagSpecs,
} from '../../shared/src/index.js';

const FLAGS = {
  listen: { type: 'string', default: '127.0.0.1:4317', metavar: 'HOST:PORT', help: 'address for the OTLP/gRPC TraceService' },
  'traces-file': { type: 'string', metavar: 'PATH', help: 'append every received batch as an OTLP/JSON line (the Collector file exporter format)' },
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
  process.stderr.write(
    `OTLP/gRPC receiver listening on ${receiver.endpoint}` +
      (flags['traces-file'] ? `, writing OTLP/JSON lines to ${flags['traces-file']}` : '') +
      '\n',
  );
  onShutdown(async () => {
    const s = receiver.stats();
    process.stderr.write(`received ${s.spansAccepted} spans in ${s.exportRequests} requests, rejected ${s.spansRejected}\n`);
    await receiver.close();
  });
};
