import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  formatUsage,
  KubeClient,
  loadKubeconfig,
  parseFlags,
  startOtlpReceiver,
  isNotFound,
  type CommandMain,
  type KubeObject,
  type Node,
  type OtlpReceiver,
} from '../../shared/src/index.js';
import { canBind, Supervisor } from './supervisor.js';
import { splitHostPort } from './collector.js';
import { ensureClusterFiles, WEBHOOK_SERVICE } from './cluster-files.js';
import { startQueryServer, type QueryServer } from '../../shared/src/query-server.js';
import { apiserverTracingConfig, checkUpFlags, nodeNames, planUp, UP_FLAGS, type UpPlan } from './up-plan.js';
import { printCreationTraces } from './trace-printer.js';

/** The MutatingWebhookConfiguration `up` registers for the demo webhook. */
export function webhookConfiguration(caBundle: string): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'pod-mutator' },
    webhooks: [
      {
        name: 'pod-mutator.k8s-trace-sim.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        clientConfig: {
          service: { namespace: WEBHOOK_SERVICE.namespace, name: WEBHOOK_SERVICE.name, path: WEBHOOK_SERVICE.path, port: 443 },
          caBundle: Buffer.from(caBundle).toString('base64'),
        },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      },
    ],
  };
}

async function registerWebhook(client: KubeClient, caBundle: string): Promise<void> {
  const path = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
  const desired = webhookConfiguration(caBundle);
  try {
    const existing = await client.get<KubeObject>(`${path}/pod-mutator`);
    await client.replace(`${path}/pod-mutator`, { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata.resourceVersion } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.create(path, desired);
  }
}

async function readyNodes(client: KubeClient, names: readonly string[]): Promise<boolean> {
  const list = await client.list<Node>('/api/v1/nodes');
  const ready = new Set(
    list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name),
  );
  return names.every((n) => ready.has(n));
}

function describe(
  plan: UpPlan,
  receiver: OtlpReceiver | undefined,
  query: QueryServer | undefined,
  kubeconfig: string,
  seconds: number,
  flags: { 'traces-file'?: string | undefined },
): string {
  return [
    `k8s-trace-sim is up in ${seconds.toFixed(1)} s (Kubernetes ${plan.kubeVersion}, ${plan.mode} mode, ${plan.nodeNames.length} node${plan.nodeNames.length === 1 ? '' : 's'}, data in ${plan.dataDir})`,
    ...(plan.configDir ? [`  tracing    as configured in ${plan.configDir}`] : []),
    `  apiserver  ${plan.apiserverUrl}`,
    `  etcd       ${plan.etcdUrl}`,
    `  runtime    unix://${plan.runtimeSocket}`,
    plan.builtinReceiver
      ? `  OTLP       ${receiver?.endpoint} (built-in receiver${flags['traces-file'] ? `, writing ${flags['traces-file']}` : ''})`
      : `  OTLP       spans go to ${plan.otlpEndpoint}`,
    ...(query ? [`  viewer     ${query.url}/ (and Jaeger's /api/v3 query API)`] : []),
    '',
    `  export KUBECONFIG=${kubeconfig}`,
    '  kubectl run demo --image=nginx',
    '',
    'Press Ctrl-C to stop.',
  ].join('\n');
}

export const main: CommandMain = async (argv) => {
  const flags = parseFlags(argv, UP_FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('up', 'Start the simulated control plane, each component as its own process.', UP_FLAGS) + '\n');
    return;
  }
  checkUpFlags(flags);
  const started = Date.now();
  const dataDir = resolve(flags['data-dir']);
  mkdirSync(join(dataDir, 'config'), { recursive: true });
  const names = nodeNames(flags.nodes);
  const files = await ensureClusterFiles(dataDir, {
    apiserverUrl: `https://127.0.0.1:${flags['apiserver-port']}`,
    storyMode: flags.mode === 'story',
    firstNode: names[0] as string,
  });
  const admin = new KubeClient({ ...loadKubeconfig(files.adminKubeconfig), userAgent: 'k8s-trace-sim-up', timeoutMs: 5000 });
  const plan = planUp(flags, process.env, files, { check: () => readyNodes(admin, names), what: 'nodes Ready' });
  writeFileSync(join(dataDir, 'config', 'apiserver-tracing.yaml'), apiserverTracingConfig(plan.otlpEndpoint, plan.kubeVersion));

  const busy: string[] = [];
  for (const c of plan.children) {
    if ('port' in c.ready && !(await canBind(c.ready.host, c.ready.port))) busy.push(`${c.ready.host}:${c.ready.port} (${c.name})`);
  }
  const ui = plan.builtinReceiver && flags['ui-listen'] !== 'off' ? splitHostPort(flags['ui-listen']) : undefined;
  if (plan.builtinReceiver) {
    const { host, port } = splitHostPort(flags['otlp-listen']);
    if (!(await canBind(host, port))) busy.push(`${flags['otlp-listen']} (OTLP receiver; use --otlp-endpoint to send spans to the collector already there)`);
    if (ui && ui.port !== 0 && !(await canBind(ui.host, ui.port))) busy.push(`${flags['ui-listen']} (trace viewer; --ui-listen picks another address, off turns it off)`);
  }
  if (busy.length > 0) throw new Error(`address already in use: ${busy.join(', ')}`);

  let receiver: OtlpReceiver | undefined;
  if (plan.builtinReceiver) {
    const { host, port } = splitHostPort(flags['otlp-listen']);
    receiver = await startOtlpReceiver({ host, port, tracesFile: flags['traces-file'] });
  }
  const query = receiver && ui ? await startQueryServer({ receiver, host: ui.host, port: ui.port }) : undefined;

  let shuttingDown = false;
  const supervisor = new Supervisor((child, code, signal) => {
    if (shuttingDown) return;
    process.stderr.write(`\n${child.spec.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.\n${child.tail()}\n`);
    void stop(1);
  });
  const stop = async (exitCode: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    admin.close();
    await supervisor.stopAll();
    await query?.close();
    await receiver?.close();
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  // Spans leave a real component up to 5 s after they end; a second keeps the demo lively.
  // Every process records what it exported in the run's manifest, which `verify` reads back.
  const sentFile = process.env['K8S_TRACE_SIM_SENT_FILE'] ?? join(dataDir, 'sent.jsonl');
  writeFileSync(sentFile, '');
  const env = {
    OTEL_BSP_SCHEDULE_DELAY: process.env['OTEL_BSP_SCHEDULE_DELAY'] ?? '1000',
    K8S_TRACE_SIM_SENT_FILE: sentFile,
  };
  try {
    for (const stage of [1, 2, 3] as const) {
      if (stage === 3) await registerWebhook(admin, files.ca.cert);
      const children = plan.children.filter((c) => c.stage === stage).map((spec) => supervisor.start({ ...spec, env }));
      await Promise.all(children.map((c) => supervisor.waitReady(c, 20_000)));
    }
  } catch (err) {
    shuttingDown = true;
    admin.close();
    await supervisor.stopAll();
    await query?.close();
    await receiver?.close();
    throw err;
  }
  process.stdout.write(describe(plan, receiver, query, files.adminKubeconfig, (Date.now() - started) / 1000, flags) + '\n');
  if (receiver && flags['print-traces']) {
    printCreationTraces(receiver, (t) => process.stdout.write('\n' + t), {
      quietMs: 1500,
      waitForSyncPod: plan.mode === 'story',
      maxWaitMs: 60_000,
    });
  }
};
