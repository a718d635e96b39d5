// docker-compose.yaml's `init` job: writes the cluster's CA, certificates and
// kubeconfigs into the shared volume before any component starts, as `up`
// writes them into its data directory (cli/src/cluster-files.ts), with two
// differences a network of containers needs: the kubeconfigs name the
// apiserver by its compose service name, and the apiserver's serving
// certificate carries that name too. Files already there are kept, so a
// kubeconfig copied out of the volume stays valid across restarts. With
// --sent-file it also starts the run's sent manifest empty, as `up` does.
//
//   node examples/compose/init.mjs --data-dir /etc/kubernetes --apiserver-url https://apiserver:6443 --mode story \
//     --sent-file /var/lib/k8s-trace-sim/sent.jsonl
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureClusterFiles } from '../../dist/cli/src/cluster-files.js';
import { issueCert } from '../../dist/shared/src/pki.js';

function fail(message) {
  process.stderr.write(`init: ${message}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'apiserver-url': { type: 'string' },
      mode: { type: 'string', default: 'story' },
      'sent-file': { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
const dataDir = values['data-dir'];
if (!dataDir) fail('--data-dir is required');
let url;
try {
  url = new URL(values['apiserver-url'] ?? '');
} catch {
  fail(`--apiserver-url "${values['apiserver-url'] ?? ''}": want https://HOST:PORT`);
}
if (url.protocol !== 'https:') fail(`--apiserver-url ${url.href}: want https://HOST:PORT`);
if (values.mode !== 'story' && values.mode !== 'faithful') fail(`--mode "${values.mode}": want story or faithful`);

const files = await ensureClusterFiles(dataDir, {
  apiserverUrl: url.origin,
  storyMode: values.mode === 'story',
  firstNode: 'node-1',
});

// Keep the apiserver certificate's names and add the host the kubeconfigs use.
const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
const isIp = /^[\d.]+$/.test(host) || host.includes(':');
const current = new X509Certificate(readFileSync(files.apiserverCert));
const sans = (current.subjectAltName ?? '').split(', ').filter(Boolean);
const dnsNames = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
if (!(isIp ? ips : dnsNames).includes(host)) {
  const pair = await issueCert(files.ca, {
    commonName: 'kube-apiserver',
    dnsNames: isIp ? dnsNames : [...dnsNames, host],
    ips: isIp ? [...ips, host] : ips,
    usage: 'server',
  });
  writeFileSync(files.apiserverCert, pair.cert);
  writeFileSync(files.apiserverKey, pair.key, { mode: 0o600 });
}
if (values['sent-file']) {
  try {
    writeFileSync(values['sent-file'], '');
  } catch (err) {
    fail(`--sent-file: ${err.message}`);
  }
}
process.stdout.write(
  `init: wrote the CA, certificates and kubeconfigs for ${url.origin} (${values.mode} mode) into ${dataDir}: ` +
    `${join('pki', 'ca.crt')}, kubeconfig, scheduler.conf, kubelet.conf\n`,
);
