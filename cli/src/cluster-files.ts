import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderKubeconfig } from '../../shared/src/index.js';
import { createCA, issueCert, type KeyPair } from '../../shared/src/pki.js';
import { isIpLiteral } from '../../shared/src/otelgrpc.js';

/** Where the webhook answers, as the MutatingWebhookConfiguration names it (a Service reference). */
export const WEBHOOK_SERVICE = { namespace: 'webhook-system', name: 'pod-mutator', path: '/mutate-v1-pod' } as const;

export interface ClusterFiles {
  readonly pkiDir: string;
  readonly ca: KeyPair;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  /** Holds tls.crt and tls.key, the layout controller-runtime reads. */
  readonly webhookCertDir: string;
  readonly adminKubeconfig: string;
  readonly schedulerKubeconfig: string;
  readonly kubeletKubeconfig: string;
}

function readPair(cert: string, key: string): KeyPair | undefined {
  return existsSync(cert) && existsSync(key) ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : undefined;
}

async function leaf(dir: string, name: string, ca: KeyPair, req: Parameters<typeof issueCert>[1], fresh: boolean): Promise<KeyPair> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const kept = fresh ? undefined : readPair(cert, key);
  if (kept) return kept;
  const pair = await issueCert(ca, req);
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key, { mode: 0o600 });
  return pair;
}

/**
 * The cluster's PKI and kubeconfigs, laid out as kubeadm lays out
 * /etc/kubernetes: a CA, the apiserver's serving certificate, client
 * certificates whose CN and O are the user and groups, and one kubeconfig per
 * client. Certificates are kept across runs (a kubeconfig a user copied stays
 * valid); kubeconfigs are rewritten because the apiserver port may change.
 *
 * Identities: kubectl's admin is in system:masters (kubeadm's super-admin).
 * The kubelet is system:node:<name> in system:nodes, as in a real cluster. In
 * story mode the scheduler is in system:masters, so the 1.33+ apiserver
 * honours the trace context of its binding request: a real mechanism, used on
 * purpose; in faithful mode it is system:kube-scheduler with no groups.
 */
export async function ensureClusterFiles(
  dataDir: string,
  opts: { apiserverUrl: string; storyMode: boolean; firstNode: string },
): Promise<ClusterFiles> {
  const pkiDir = join(dataDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  let ca = readPair(join(pkiDir, 'ca.crt'), join(pkiDir, 'ca.key'));
  const freshCa = !ca;
  if (!ca) {
    ca = await createCA('kubernetes');
    writeFileSync(join(pkiDir, 'ca.crt'), ca.cert);
    writeFileSync(join(pkiDir, 'ca.key'), ca.key, { mode: 0o600 });
  }
  // The serving certificate names the host the kubeconfigs use (a compose
  // service name, say); a kept one without it is issued again with it.
  const host = new URL(opts.apiserverUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const hostIsIp = isIpLiteral(host);
  const dnsNames = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const ips = ['127.0.0.1'];
  if (hostIsIp && !ips.includes(host)) ips.push(host);
  if (!hostIsIp && !dnsNames.includes(host)) dnsNames.push(host);
  const keptServing = readPair(join(pkiDir, 'apiserver.crt'), join(pkiDir, 'apiserver.key'));
  const names = keptServing ? (new X509Certificate(keptServing.cert).subjectAltName ?? '').split(', ') : [];
  const servingCovers = names.includes(hostIsIp ? `IP Address:${host}` : `DNS:${host}`);
  await leaf(pkiDir, 'apiserver', ca, { commonName: 'kube-apiserver', dnsNames, ips, usage: 'server' }, freshCa || !servingCovers);
  const webhookCertDir = join(pkiDir, 'webhook');
  mkdirSync(webhookCertDir, { recursive: true });
  const svc = `${WEBHOOK_SERVICE.name}.${WEBHOOK_SERVICE.namespace}.svc`;
  await leaf(webhookCertDir, 'tls', ca, { commonName: svc, dnsNames: [svc, `${svc}.cluster.local`], usage: 'server' }, freshCa);

  const admin = await leaf(pkiDir, 'admin', ca, { commonName: 'kubernetes-super-admin', organizations: ['system:masters'], usage: 'client' }, freshCa);
  const schedulerName = opts.storyMode ? 'scheduler-story' : 'scheduler';
  const scheduler = await leaf(
    pkiDir,
    schedulerName,
    ca,
    { commonName: 'system:kube-scheduler', organizations: opts.storyMode ? ['system:masters'] : [], usage: 'client' },
    freshCa,
  );
  const kubelet = await leaf(pkiDir, 'kubelet', ca, { commonName: `system:node:${opts.firstNode}`, organizations: ['system:nodes'], usage: 'client' }, freshCa);

  const write = (file: string, userName: string, pair: KeyPair): string => {
    const path = join(dataDir, file);
    writeFileSync(
      path,
      renderKubeconfig({ clusterName: 'k8s-trace-sim', userName, server: opts.apiserverUrl, ca: ca.cert, cert: pair.cert, key: pair.key }),
      { mode: 0o600 },
    );
    return path;
  };
  return {
    pkiDir,
    ca,
    apiserverCert: join(pkiDir, 'apiserver.crt'),
    apiserverKey: join(pkiDir, 'apiserver.key'),
    webhookCertDir,
    adminKubeconfig: write('kubeconfig', 'kubernetes-super-admin', admin),
    schedulerKubeconfig: write('scheduler.conf', 'system:kube-scheduler', scheduler),
    kubeletKubeconfig: write('kubelet.conf', `system:node:${opts.firstNode}`, kubelet),
  };
}
