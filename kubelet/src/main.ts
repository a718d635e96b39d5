import { formatUsage, loadKubeconfig, onShutdown, type CommandMain, type KubeconfigCredentials } from '../../shared/src/index.js';
import { waitForApiserver } from '../../shared/src/apiserver-wait.js';
import { klog } from '../../shared/src/klog.js';
import { randomSeed } from '../../shared/src/random.js';
import { FLAGS, parseKubeletFlags } from './config.js';
import { criErrorText, type CriClient } from './cri-client.js';
import { startHealthz } from './healthz.js';
import { Kubelet } from './kubelet.js';

function credentials(path: string): KubeconfigCredentials {
  try {
    return loadKubeconfig(path);
  } catch (err) {
    throw new Error(`invalid kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The kubelet refuses to start without a runtime that answers Version (validate CRI v1 runtime API). */
async function waitForRuntime(cri: CriClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await cri.runtime('Version', { version: '0.1.0' });
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "${cri.endpoint}": ${criErrorText(err)}`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const main: CommandMain = async (argv) => {
  const parsed = parseKubeletFlags(argv);
  if (parsed.help) {
    process.stdout.write(formatUsage('kubelet', 'A kubelet for N simulated nodes: registers them, keeps their leases, and runs their pods on a CRI runtime, with the tracing of kubelet 1.27 or 1.35.', FLAGS) + '\n');
    return;
  }
  const cfg = parsed.config;
  const creds = credentials(cfg.kubeconfig);
  const log = klog(cfg.verbosity);
  for (const n of parsed.notices) (n.severity === 'W' ? log.warn : log.info)(n.source, n.msg, n.kv);
  const seed = (cfg.seed ?? randomSeed()) >>> 0;
  log.info('server.go:527', 'Kubelet version', { kubeletVersion: cfg.profile.kubeletVersion });
  log.info('server.go:529', 'Simulated nodes', { nodes: cfg.nodes.length, first: cfg.nodes[0]?.name, traceMode: cfg.traceMode, backgroundTraffic: cfg.background, seed });
  // Tracing starts with the process (one provider per node), before any client is used.
  const kubelet = new Kubelet({ cfg, credentials: creds, log, seed });
  if (kubelet.tracing.enabled) log.info('server.go:1230', 'Tracing enabled', { endpoint: kubelet.tracing.endpoint, samplingRatePerMillion: cfg.tracing.samplingRatePerMillion });
  // The apiserver connection and CRI channel do not hold the event loop open; this process lives until it is told to stop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await waitForRuntime(kubelet.cri, cfg.apiserverWaitMs);
    await waitForApiserver(kubelet.kube, creds.server, cfg.apiserverWaitMs);
  } catch (err) {
    clearInterval(keepAlive);
    await kubelet.stop();
    throw err;
  }
  const healthz = await startHealthz(cfg.healthz.host, cfg.healthz.port, () => kubelet.nodes.every((n) => n.reporter.registered || !cfg.registerNode), (err) =>
    log.error('server.go:1294', 'Failed to start healthz server', { err: err.message }),
  );
  onShutdown(
    async () => {
      clearInterval(keepAlive);
      healthz?.close();
      await kubelet.stop();
    },
    (msg) => log.info('server.go:1320', msg),
  );
  log.info('kubelet.go:2480', 'Starting kubelet main sync loop');
  await kubelet.start();
};
