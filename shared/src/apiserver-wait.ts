import type { KubeClient } from './kube-client.js';
import { StatusError } from './k8s/errors.js';

/**
 * Waits until the apiserver answers an authenticated request, so a process
 * started next to it (by `up`) can come up in any order, yet a wrong address,
 * a refused certificate or a server that never appears ends in one clear
 * error instead of a component retrying silently forever. 401/403 are final.
 */
export async function waitForApiserver(client: KubeClient, server: string, timeoutMs: number, path = '/api/v1/nodes?limit=1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const [p, q] = path.split('?');
      const query = Object.fromEntries(new URLSearchParams(q ?? ''));
      await client.request('GET', p as string, { query });
      return;
    } catch (err) {
      if (err instanceof StatusError && (err.code === 401 || err.code === 403)) {
        throw new Error(`the apiserver at ${server} refused our credentials: ${err.message}`);
      }
      if (err instanceof StatusError && err.code < 500) return;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new Error(`cannot reach the apiserver at ${server} after ${Math.round(timeoutMs / 1000)}s: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
