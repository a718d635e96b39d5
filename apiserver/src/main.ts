import { hostname } from 'node:os';
import { formatUsage, onShutdown, perMillionSampler, startTracing, type CommandMain } from '../../shared/src/index.js';
import { startApiserver } from './app.js';
import { APISERVER_FLAGS, parseApiserverConfig } from './config.js';
import type { LogFn } from './handler-context.js';
import { PROFILE_1_35 } from './profile.js';
import { apiserverResource } from './spans.js';

/** klog's text format: `I1121 08:49:00.123456   12345 main.go:1] "msg" key="value"`. */
function klog(level: 'I' | 'W' | 'E'): LogFn {
  return (msg, fields = {}) => {
    const d = new Date();
    const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
    const ts = `${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`;
    const kv = Object.entries(fields)
      .map(([k, v]) => ` ${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`)
      .join('');
    process.stderr.write(`${level}${ts} ${String(process.pid).padStart(7)} apiserver.go:1] ${JSON.stringify(msg)}${kv}\n`);
  };
}

/** The self-signed serving certificate kube-apiserver makes when --tls-cert-file is not given. */
async function selfSigned(bindAddress: string): Promise<{ cert: string; key: string }> {
  // Loaded only for this fallback: the X.509 libraries are large.
  const { createCA, issueCert } = await import('../../shared/src/pki.js');
  const ca = await createCA(`localhost-ca@${Math.floor(Date.now() / 1000)}`);
  const ips = ['127.0.0.1', ...(bindAddress !== '0.0.0.0' && bindAddress !== '127.0.0.1' && /^[\d.]+$/.test(bindAddress) ? [bindAddress] : [])];
  const leaf = await issueCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ips, usage: 'server' });
  return { cert: leaf.cert + ca.cert, key: leaf.key };
}

export const main: CommandMain = async (argv) => {
  const cfg = parseApiserverConfig(argv);
  if (cfg.help) {
    process.stdout.write(
      formatUsage('apiserver', `A kube-apiserver (--kube-version picks the release, ${PROFILE_1_35.name} by default) over etcd-sim: REST, watch, admission webhooks, tracing.`, APISERVER_FLAGS) +
        '\n',
    );
    return;
  }
  const profile = cfg.profile;
  const info = klog('I');
  const warn = klog('W');
  for (const w of cfg.featureGateWarnings) warn(w);
  info('Version', { version: profile.versionInfo['gitVersion'] ?? '' });
  const tracing = startTracing({
    resource: apiserverResource(hostname()),
    enabled: cfg.tracing !== undefined,
    endpoint: cfg.tracing?.endpoint,
    sampler: perMillionSampler(cfg.tracing?.samplingRatePerMillion),
  });
  if (tracing.enabled) info('tracing enabled', { endpoint: tracing.endpoint ?? '', samplingRatePerMillion: cfg.tracing?.samplingRatePerMillion ?? 0 });
  const tls = cfg.tls ?? (await selfSigned(cfg.bindAddress));
  if (!cfg.tls) warn('no --tls-cert-file given: serving with a generated self-signed certificate');
  const server = await startApiserver(
    {
      bindAddress: cfg.bindAddress,
      securePort: cfg.securePort,
      tls: { ...tls, clientCa: cfg.clientCa },
      etcd: cfg.etcd,
      etcdPrefix: cfg.etcdPrefix,
      maxRequestBytes: cfg.maxRequestBytes,
      anonymousAuth: cfg.anonymousAuth,
      traceMode: cfg.traceMode,
      webhookServiceAddresses: cfg.webhookServiceAddresses,
      profile,
    },
    { tracing, log: warn, hostname: hostname() },
  );
  info('Serving securely on', { address: `${cfg.bindAddress}:${server.port}`, traceMode: cfg.traceMode });
  server.ready.then(
    () => info('caches populated; default namespaces present'),
    (e: unknown) => warn('bootstrap failed', { error: String(e) }),
  );
  onShutdown(async () => {
    await server.close();
    await tracing.shutdown();
    info('apiserver stopped');
  }, (msg) => info(msg));
};
