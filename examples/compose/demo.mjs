// docker-compose.yaml's `demo` job: once every component is healthy it waits
// for the nodes to be Ready, creates a pod (what `kubectl run demo-… --image=nginx`
// sends), waits until it runs, reads its trace id from the annotation the
// apiserver adds in story mode, waits until Jaeger can show that trace with
// the kubelet's `syncPod` in it, and prints the link.
//
//   node examples/compose/demo.mjs --kubeconfig /etc/kubernetes/kubeconfig \
//     --jaeger-url http://jaeger:16686 --link-base http://localhost:16686
import { parseArgs } from 'node:util';
import { KubeClient, loadKubeconfig } from '../../dist/shared/src/index.js';
import { STORY_TRACEPARENT_ANNOTATION } from '../../dist/apiserver/src/spans.js';

function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'jaeger-url': { type: 'string' },
      'link-base': { type: 'string' },
      image: { type: 'string', default: 'nginx' },
      namespace: { type: 'string', default: 'default' },
      timeout: { type: 'string', default: '180' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
for (const f of ['kubeconfig', 'jaeger-url', 'link-base']) if (!values[f]) fail(`--${f} is required`);
const timeoutMs = Number(values.timeout) * 1000;
if (!(timeoutMs > 0)) fail(`--timeout "${values.timeout}": want seconds`);
const jaeger = values['jaeger-url'].replace(/\/+$/, '');
const linkBase = values['link-base'].replace(/\/+$/, '');
const deadline = Date.now() + timeoutMs;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.stdout.write(`demo: ${line}\n`);

/** Polls `probe` until it returns a value other than undefined, or fails with `what` at the deadline. */
async function until(what, probe, everyMs = 500) {
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = `: ${err.message}`;
    }
    if (Date.now() > deadline) fail(`timed out after ${values.timeout} s waiting for ${what}${last}`);
    await sleep(everyMs);
  }
}

let creds;
try {
  creds = loadKubeconfig(values.kubeconfig);
} catch (err) {
  fail(`${values.kubeconfig}: ${err.message}`);
}
const client = new KubeClient({ ...creds, userAgent: 'k8s-trace-sim-demo', timeoutMs: 10_000 });
// KubeClient's connection does not hold the event loop open; this does, until the job is done.
const keepAlive = setInterval(() => {}, 1 << 30);
try {
  await until('a Ready node', async () => {
    const nodes = await client.list('/api/v1/nodes');
    return nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined;
  });
  const ns = values.namespace;
  const created = await client.create(`/api/v1/namespaces/${ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'demo-', namespace: ns, labels: { run: 'demo' } },
    spec: { containers: [{ name: 'demo', image: values.image }] },
  });
  const name = created.metadata.name;
  say(`created pod ${ns}/${name} (image ${values.image})`);
  const pod = await until(`pod ${ns}/${name} to be Running`, async () => {
    const p = await client.get(`/api/v1/namespaces/${ns}/pods/${name}`);
    if (p.status?.phase === 'Failed') fail(`pod ${ns}/${name} failed: ${JSON.stringify(p.status)}`);
    return p.status?.phase === 'Running' ? p : undefined;
  });
  say(`pod ${ns}/${name} is Running on ${pod.spec.nodeName}`);
  const traceparent = pod.metadata.annotations?.[STORY_TRACEPARENT_ANNOTATION];
  const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')?.[1];
  if (!traceId) {
    fail(`pod ${ns}/${name} has no ${STORY_TRACEPARENT_ANNOTATION} annotation: the apiserver runs in faithful mode, where a pod's creation is several traces (find them in Jaeger by service and time)`);
  }

  // Ingest is asynchronous: wait until the trace holds the kubelet's syncPod
  // and has stopped growing, so the link shows the whole creation.
  let previous = -1;
  const services = await until(`Jaeger at ${jaeger} to show trace ${traceId} with its syncPod`, async () => {
    const res = await fetch(`${jaeger}/api/v3/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET /api/v3/traces/${traceId}: HTTP ${res.status}`);
    const body = await res.json();
    const count = new Map();
    let spans = 0;
    let syncPod = false;
    for (const rs of body.result?.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '?';
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans += 1;
          count.set(service, (count.get(service) ?? 0) + 1);
          if (s.name === 'syncPod') syncPod = true;
        }
      }
    }
    const stable = syncPod && spans === previous;
    previous = spans;
    return stable ? count : undefined;
  }, 1000);
  const total = [...services.values()].reduce((a, b) => a + b, 0);
  say(`trace ${traceId}: ${total} spans (${[...services].map(([s, n]) => `${s} ${n}`).join(', ')})`);
  process.stdout.write(`\nThe creation of pod ${ns}/${name}, as one trace:\n  ${linkBase}/trace/${traceId}\n\n`);
} catch (err) {
  fail(err.message);
} finally {
  clearInterval(keepAlive);
  client.close();
}
