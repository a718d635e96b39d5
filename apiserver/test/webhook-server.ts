import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { issueCert } from '../../shared/src/pki.js';
import { pki } from './harness.js';

export interface ReceivedReview {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly servername: string | false;
  readonly review: { request: Record<string, unknown> & { uid: string; object?: { metadata?: { name?: string; labels?: Record<string, string> } } } };
}

export interface TestWebhook {
  readonly port: number;
  readonly received: ReceivedReview[];
  /** The CA bundle (base64 PEM) that verifies this server. */
  readonly caBundle: string;
  close(): Promise<void>;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * A tiny HTTPS admission webhook for tests, serving as `wh.default.svc`:
 * /mutate adds a label with a JSONPatch, /deny refuses pods named deny-me,
 * /allow admits, /slow answers after two seconds, /garbage sends no review.
 */
export async function startWebhook(): Promise<TestWebhook> {
  const p = await pki();
  const cert = await issueCert(p.ca, { commonName: 'wh.default.svc', dnsNames: ['wh.default.svc', 'localhost'], ips: ['127.0.0.1'], usage: 'server' });
  const received: ReceivedReview[] = [];
  const server: Server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedReview['review'];
      const servername = (req.socket as unknown as { servername?: string | false }).servername ?? false;
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, servername, review });
      const uid = review.request.uid;
      const respond = (response: Record<string, unknown>): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } }));
      };
      if (path.startsWith('/mutate')) {
        const hasLabels = review.request.object?.metadata?.labels !== undefined;
        const patch = hasLabels
          ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'true' }]
          : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'true' } }];
        respond({ allowed: true, patchType: 'JSONPatch', patch: b64(JSON.stringify(patch)) });
      } else if (path.startsWith('/deny')) {
        const name = review.request.object?.metadata?.name;
        respond(name === 'deny-me' ? { allowed: false, status: { code: 403, message: 'pods named deny-me are not welcome' } } : { allowed: true });
      } else if (path.startsWith('/slow')) {
        setTimeout(() => respond({ allowed: true }), 2000);
      } else if (path.startsWith('/garbage')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      } else respond({ allowed: true });
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    received,
    caBundle: b64(p.ca.cert),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
