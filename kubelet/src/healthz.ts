import { createServer, type Server } from 'node:http';

/**
 * The kubelet's healthz endpoint (--healthz-port, --healthz-bind-address):
 * plain HTTP `GET /healthz` → `ok`, what kind and kubeadm probe. A port that
 * is taken is logged, not fatal, as the kubelet does (several simulated
 * kubelet processes on one host would otherwise collide on 10248).
 */
export function startHealthz(host: string, port: number, healthy: () => boolean, onError: (err: Error) => void): Promise<Server | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url?.startsWith('/healthz?'))) {
      const ok = healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(ok ? 'ok' : 'not ready');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
  return new Promise((resolve) => {
    server.once('error', (err) => {
      onError(err);
      resolve(undefined);
    });
    server.listen(port, host, () => resolve(server));
  });
}
