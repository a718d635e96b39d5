// docker-compose.yaml's `register-webhook` job: registers the demo webhook
// with a MutatingWebhookConfiguration (the one `up` registers, with the
// cluster CA as its caBundle), once the apiserver is healthy and before the
// scheduler and the kubelet start, so no pod is created without it.
//
//   node examples/compose/register-webhook.mjs --kubeconfig /etc/kubernetes/kubeconfig
import { parseArgs } from 'node:util';
import { isNotFound, KubeClient, loadKubeconfig } from '../../dist/shared/src/index.js';
import { webhookConfiguration } from '../../dist/cli/src/up.js';

function fail(message) {
  process.stderr.write(`register-webhook: ${message}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({ options: { kubeconfig: { type: 'string' } }, strict: true }));
} catch (err) {
  fail(err.message);
}
if (!values.kubeconfig) fail('--kubeconfig is required');
let creds;
try {
  creds = loadKubeconfig(values.kubeconfig);
} catch (err) {
  fail(`${values.kubeconfig}: ${err.message}`);
}
if (!creds.ca) fail(`${values.kubeconfig} names no certificate-authority-data for the caBundle`);

const client = new KubeClient({ ...creds, userAgent: 'k8s-trace-sim-register-webhook', timeoutMs: 10_000 });
// KubeClient's connection does not hold the event loop open; this does, until the job is done.
const keepAlive = setInterval(() => {}, 1 << 30);
const path = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const desired = webhookConfiguration(creds.ca);
try {
  // Create, or replace what an earlier run registered.
  try {
    const existing = await client.get(`${path}/${desired.metadata.name}`);
    await client.replace(`${path}/${desired.metadata.name}`, {
      ...desired,
      metadata: { ...desired.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.create(path, desired);
  }
  process.stdout.write(`register-webhook: MutatingWebhookConfiguration ${desired.metadata.name} registered at ${creds.server}\n`);
} catch (err) {
  fail(`${creds.server}: ${err.message}`);
} finally {
  clearInterval(keepAlive);
  client.close();
}
