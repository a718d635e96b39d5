import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatUsage, parseFlags, type CommandMain, type FlagSpecs } from '../../shared/src/index.js';
import { ensureClusterFiles } from './cluster-files.js';

const FLAGS = {
  'data-dir': { type: 'string', default: './.k8s-trace-sim', metavar: 'DIR', help: 'where to write pki/, kubeconfig, scheduler.conf and kubelet.conf (as kubeadm lays out /etc/kubernetes)' },
  'apiserver-url': { type: 'string', default: 'https://127.0.0.1:6443', metavar: 'URL', help: "the apiserver as the kubeconfigs name it; its host goes into the serving certificate's names" },
  mode: { type: 'string', default: 'story', metavar: 'story|faithful', help: 'story: the scheduler authenticates in system:masters, so the apiserver honours its trace context' },
  'first-node': { type: 'string', default: 'node-1', metavar: 'NAME', help: "the node whose identity kubelet.conf carries (system:node:NAME)" },
  'sent-file': { type: 'string', metavar: 'FILE', help: "start this sent manifest empty, as `up` does for each run" },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const satisfies FlagSpecs;

/**
 * `k8s-trace-sim pki`: the cluster files `up` writes, for processes started
 * another way (by hand, or one container each): a CA, the apiserver's and the
 * webhook's serving certificates, client certificates and kubeconfigs.
 * Certificates already there are kept, so a copied kubeconfig stays valid.
 */
export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('pki', "Write the cluster's CA, certificates and kubeconfigs.", FLAGS) + '\n');
    return;
  }
  let url: URL;
  try {
    url = new URL(flags['apiserver-url']);
  } catch {
    throw new Error(`invalid --apiserver-url "${flags['apiserver-url']}": want https://HOST:PORT`);
  }
  if (url.protocol !== 'https:') throw new Error(`invalid --apiserver-url "${flags['apiserver-url']}": want https://HOST:PORT`);
  if (flags.mode !== 'story' && flags.mode !== 'faithful') throw new Error(`invalid --mode "${flags.mode}": want story or faithful`);
  const dataDir = resolve(flags['data-dir']);
  await ensureClusterFiles(dataDir, { apiserverUrl: url.origin, storyMode: flags.mode === 'story', firstNode: flags['first-node'] });
  const sent = flags['sent-file'];
  if (sent !== undefined) {
    try {
      writeFileSync(sent, '');
    } catch (err) {
      throw new Error(`--sent-file ${sent}: ${(err as Error).message}`);
    }
  }
  process.stdout.write(
    `wrote the CA, certificates and kubeconfigs for ${url.origin} (${flags.mode} mode) into ${dataDir}: ` +
      `${join('pki', 'ca.crt')}, kubeconfig, scheduler.conf, kubelet.conf${sent !== undefined ? `; emptied ${sent}` : ''}\n`,
  );
};
