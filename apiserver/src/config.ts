import { readFileSync } from 'node:fs';
import { FlagError, parseFlags, type FlagSpecs } from '../../shared/src/index.js';
import { DEFAULT_MAX_REQUEST_BYTES } from './body.js';
import { parseFeatureGates } from './feature-gates.js';
import { KUBE_VERSIONS, PROFILES, type ApiserverProfile, type KubeVersion } from './profile.js';
import { TracingConfigError, readTracingConfiguration, type TracingConfiguration } from './tracing-config.js';

/** kube-apiserver's flag names for what this apiserver does, plus the simulator's own (marked so). */
export const APISERVER_FLAGS = {
  'secure-port': { type: 'int', default: 6443, help: 'The port on which to serve HTTPS with authentication and authorization.' },
  'bind-address': { type: 'string', default: '127.0.0.1', metavar: 'IP', help: 'The IP address on which to listen for the --secure-port port.' },
  'tls-cert-file': { type: 'string', metavar: 'FILE', help: 'File containing the default x509 Certificate for HTTPS; a self-signed one is made if absent.' },
  'tls-private-key-file': { type: 'string', metavar: 'FILE', help: 'File containing the default x509 private key matching --tls-cert-file.' },
  'client-ca-file': { type: 'string', metavar: 'FILE', help: 'Client certificates signed by these CAs authenticate as their CommonName, with their Organizations as groups.' },
  'anonymous-auth': { type: 'bool', default: true, help: 'Requests not rejected by another authentication method are treated as system:anonymous.' },
  'authorization-mode': { type: 'string', default: 'AlwaysAllow', help: 'Ordered list of plug-ins to do authorization on secure port. Only AlwaysAllow is simulated.' },
  'etcd-servers': { type: 'string', default: 'http://127.0.0.1:2379', metavar: 'URLS', help: 'List of etcd servers to connect with (scheme://ip:port), comma separated.' },
  'etcd-prefix': { type: 'string', default: '/registry', help: 'The prefix to prepend to all resource paths in etcd.' },
  'storage-media-type': { type: 'string', default: 'application/json', help: 'The media type to use to store objects in storage. Only application/json is simulated.' },
  'tracing-config-file': { type: 'string', metavar: 'FILE', help: 'File with apiserver tracing configuration (TracingConfiguration). Tracing is off without it.' },
  'feature-gates': {
    type: 'stringArray',
    default: [],
    metavar: 'A=true|false,…',
    help: 'Comma-separated key=value pairs for feature gates. Simulated: APIServerTracing (beta, default true, in 1.27; GA and locked to true from 1.34), AllAlpha, AllBeta.',
  },
  'kube-version': { type: 'string', default: '1.35', metavar: 'VERSION', help: `(simulator) The kube-apiserver release to imitate: ${KUBE_VERSIONS.join(' or ')}. Spans, /version and configuration rules follow it.` },
  'max-request-bytes': { type: 'int', default: DEFAULT_MAX_REQUEST_BYTES, help: '(simulator) Largest request body accepted; kube-apiserver fixes 3 MiB for JSON.' },
  'trace-mode': {
    type: 'string',
    default: 'story',
    help: "(simulator) story: annotate new pods with the create's trace context so scheduler and kubelet join it (under 1.27 also honour system:masters callers' traceparent, as 1.33+ does); faithful: neither.",
  },
  'webhook-service-address': {
    type: 'stringArray',
    default: [],
    metavar: 'NS/NAME=HOST:PORT',
    help: '(simulator) Where a webhook service reference really listens, as there is no cluster DNS. Repeatable.',
  },
  v: { type: 'int', default: 0, help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, help: 'help for kube-apiserver' },
} as const satisfies FlagSpecs;

export interface ApiserverFlagsConfig {
  readonly help: boolean;
  /** --kube-version: the release whose spans, /version and configuration rules apply. */
  readonly profile: ApiserverProfile;
  /** What setting the gates logs (klog warnings for GA gates). */
  readonly featureGateWarnings: readonly string[];
  readonly bindAddress: string;
  readonly securePort: number;
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly clientCa: string | undefined;
  readonly anonymousAuth: boolean;
  readonly etcd: { readonly host: string; readonly port: number };
  readonly etcdPrefix: string;
  readonly maxRequestBytes: number;
  readonly traceMode: 'story' | 'faithful';
  readonly webhookServiceAddresses: ReadonlyMap<string, { host: string; port: number }>;
  /** Undefined: tracing is off, as in kube-apiserver without --tracing-config-file. */
  readonly tracing: TracingConfiguration | undefined;
  readonly verbosity: number;
}

/** `host:port` → parts, `[::1]:2379` included. */
export function hostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:/]+):(\d+)$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1] as string, port } : undefined;
}

/** The first --etcd-servers URL (the apiserver balances over all; one member is simulated). */
export function parseEtcdServers(raw: string): { host: string; port: number } {
  const first = raw.split(',')[0]?.trim() ?? '';
  const m = /^(https?):\/\/(.+?)\/?$/.exec(first);
  const hp = m ? hostPort(m[2] as string) : undefined;
  if (!m || !hp) throw new FlagError(`invalid --etcd-servers "${raw}": want scheme://ip:port`);
  if (m[1] === 'https') throw new FlagError('--etcd-servers: https:// needs --etcd-certfile and --etcd-keyfile, which this simulator does not support; use http://');
  return hp;
}

export function parseWebhookServiceAddresses(values: readonly string[]): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  for (const v of values) {
    const m = /^([^/=]+)\/([^/=]+)=(.+)$/.exec(v);
    const hp = m ? hostPort(m[3] as string) : undefined;
    if (!m || !hp) throw new FlagError(`invalid argument "${v}" for "--webhook-service-address" flag: want NAMESPACE/NAME=HOST:PORT`);
    out.set(`${m[1]}/${m[2]}`, hp);
  }
  return out;
}

function readFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new FlagError(`--${flag}: ${(e as Error).message}`);
  }
}

export function parseKubeVersion(raw: string): ApiserverProfile {
  if (!(KUBE_VERSIONS as readonly string[]).includes(raw)) {
    throw new FlagError(`invalid argument "${raw}" for "--kube-version" flag: supported versions are ${KUBE_VERSIONS.join(', ')}`);
  }
  return PROFILES[raw as KubeVersion];
}

export function parseApiserverConfig(argv: readonly string[]): ApiserverFlagsConfig {
  const f = parseFlags(argv, APISERVER_FLAGS);
  if (f._.length > 0) throw new FlagError(`unknown command "${f._[0]}" for "kube-apiserver"`);
  const profile = parseKubeVersion(f['kube-version']);
  const gates = parseFeatureGates(profile, f['feature-gates']);
  const mode = f['trace-mode'];
  if (mode !== 'story' && mode !== 'faithful') throw new FlagError(`invalid argument "${mode}" for "--trace-mode" flag: want story or faithful`);
  if (f['storage-media-type'] !== 'application/json') {
    throw new FlagError(`--storage-media-type "${f['storage-media-type']}": only application/json is simulated`);
  }
  if (f['authorization-mode'] !== 'AlwaysAllow') throw new FlagError(`--authorization-mode "${f['authorization-mode']}": only AlwaysAllow is simulated`);
  if (f['secure-port'] < 0 || f['secure-port'] > 65535) throw new FlagError(`--secure-port ${f['secure-port']} must be between 0 and 65535, inclusive. 0 for turning off secure port`);
  if (f['max-request-bytes'] <= 0) throw new FlagError('--max-request-bytes must be positive');
  const certFile = f['tls-cert-file'];
  const keyFile = f['tls-private-key-file'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new FlagError('--tls-cert-file and --tls-private-key-file go together');
  const caFile = f['client-ca-file'];
  const tracingFile = f['tracing-config-file'];
  let tracing: TracingConfiguration | undefined;
  try {
    tracing = tracingFile ? readTracingConfiguration(profile, tracingFile, gates.apiserverTracing) : undefined;
  } catch (e) {
    if (e instanceof TracingConfigError) throw new FlagError(e.message);
    throw e;
  }
  return {
    help: f.help,
    profile,
    featureGateWarnings: gates.warnings,
    bindAddress: f['bind-address'],
    securePort: f['secure-port'],
    tls: certFile && keyFile ? { cert: readFile('tls-cert-file', certFile), key: readFile('tls-private-key-file', keyFile) } : undefined,
    clientCa: caFile ? readFile('client-ca-file', caFile) : undefined,
    anonymousAuth: f['anonymous-auth'],
    etcd: parseEtcdServers(f['etcd-servers']),
    etcdPrefix: f['etcd-prefix'].replace(/\/+$/, ''),
    maxRequestBytes: f['max-request-bytes'],
    traceMode: mode,
    webhookServiceAddresses: parseWebhookServiceAddresses(f['webhook-service-address']),
    tracing,
    verbosity: f.v,
  };
}
