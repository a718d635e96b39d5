import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

/** What a client needs from a kubeconfig's current context. */
export interface KubeconfigCredentials {
  readonly server: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
  readonly insecureSkipTLSVerify?: boolean;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}

function pick<T>(list: unknown, name: string | undefined, field: string): T {
  const items = (Array.isArray(list) ? list : []) as Array<Named<T> & Record<string, T>>;
  const found = items.find((i) => i.name === name);
  if (!found) throw new Error(`kubeconfig: ${field} "${name ?? ''}" not found`);
  return found[field] as T;
}

function material(base: string, data: unknown, file: unknown): string | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
  if (typeof file === 'string' && file !== '') return readFileSync(isAbsolute(file) ? file : resolve(base, file), 'utf8');
  return undefined;
}

/** Reads the current context of a kubeconfig file (YAML or JSON), as client-go's loader does for one file. */
export function loadKubeconfig(path: string, context?: string): KubeconfigCredentials {
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${path}: not a kubeconfig`);
  const ctxName = context ?? (doc['current-context'] as string | undefined);
  const ctx = pick<{ cluster: string; user: string }>(doc['contexts'], ctxName, 'context');
  const cluster = pick<Record<string, unknown>>(doc['clusters'], ctx.cluster, 'cluster');
  const user = pick<Record<string, unknown>>(doc['users'], ctx.user, 'user') ?? {};
  const base = dirname(path);
  const ca = material(base, cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(base, user['client-certificate-data'], user['client-certificate']);
  const key = material(base, user['client-key-data'], user['client-key']);
  return {
    server: String(cluster['server'] ?? ''),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(typeof user['token'] === 'string' ? { token: user['token'] } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecureSkipTLSVerify: true } : {}),
  };
}

/** A kubeconfig with one cluster, user and context, certificates embedded, as kubeadm writes admin.conf. */
export function renderKubeconfig(opts: {
  clusterName: string;
  userName: string;
  server: string;
  ca: string;
  cert: string;
  key: string;
}): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const context = `${opts.userName}@${opts.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.clusterName, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.ca) } }],
    users: [{ name: opts.userName, user: { 'client-certificate-data': b64(opts.cert), 'client-key-data': b64(opts.key) } }],
    contexts: [{ name: context, context: { cluster: opts.clusterName, user: opts.userName } }],
    'current-context': context,
    preferences: {},
  });
}
