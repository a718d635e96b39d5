import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatUsage,
  onShutdown,
  parentBasedAlwaysOn,
  parseFlags,
  startTracing,
  OTELHTTP_SCOPE,
  type CommandMain,
  type FlagSpecs,
} from '../../shared/src/index.js';
import { buildWebhook } from './app.js';
import { webhookResource, WEBHOOK_OTELHTTP } from './spans.js';

const FLAGS = {
  'bind-address': { type: 'string', default: '127.0.0.1', metavar: 'IP', help: 'address to serve HTTPS on' },
  port: { type: 'int', default: 9443, help: 'webhook server port (controller-runtime default)' },
  'cert-dir': { type: 'string', default: '/tmp/k8s-webhook-server/serving-certs', metavar: 'DIR', help: 'directory holding tls.crt and tls.key' },
  path: { type: 'string', default: '/mutate-v1-pod', help: 'path the MutatingWebhookConfiguration calls' },
  'otlp-endpoint': { type: 'string', metavar: 'HOST:PORT', help: 'OTLP/gRPC endpoint (default $OTEL_EXPORTER_OTLP_ENDPOINT, then localhost:4317)' },
  'service-name': { type: 'string', default: 'webhook', help: 'service.name of the spans' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const satisfies FlagSpecs;

export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('webhook', 'A mutating admission webhook (AdmissionReview v1 over HTTPS).', FLAGS) + '\n');
    return;
  }
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(join(flags['cert-dir'], 'tls.crt'), 'utf8');
    key = readFileSync(join(flags['cert-dir'], 'tls.key'), 'utf8');
  } catch (err) {
    throw new Error(`cannot read the serving certificate from ${flags['cert-dir']} (tls.crt, tls.key): ${(err as Error).message}`);
  }
  const tracing = startTracing({
    enabled: true,
    resource: webhookResource(flags['service-name']),
    endpoint: flags['otlp-endpoint'],
    sampler: parentBasedAlwaysOn(),
  });
  const app = buildWebhook({ cert, key, tracer: tracing.tracer(OTELHTTP_SCOPE, WEBHOOK_OTELHTTP.version), path: flags.path });
  try {
    await app.listen({ host: flags['bind-address'], port: flags.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `listen tcp ${flags['bind-address']}:${flags.port}: bind: address already in use` : String(err));
  }
  process.stderr.write(
    JSON.stringify({ level: 'info', msg: 'Serving webhook server', host: flags['bind-address'], port: flags.port, path: flags.path }) + '\n',
  );
  onShutdown(async () => {
    await app.close();
    await tracing.shutdown();
  });
};
