/**
 * /healthz, /livez and /readyz with their named checks (server/healthz):
 * `ok` when every check passes, the per-check listing with `?verbose` or on
 * failure, `/<endpoint>/<check>` for one check. `?exclude=` skips checks.
 */
export type Check = () => Promise<boolean>;

const ENDPOINTS = ['healthz', 'livez', 'readyz'] as const;

/** The checks each endpoint runs, in upstream's order (a subset of kube-apiserver's). */
function checksFor(endpoint: (typeof ENDPOINTS)[number], etcd: Check, ready: Check): [string, Check][] {
  const ok: Check = async () => true;
  const common: [string, Check][] = [
    ['ping', ok],
    ['log', ok],
    ['etcd', etcd],
  ];
  if (endpoint === 'readyz') common.push(['etcd-readiness', etcd], ['informer-sync', ready]);
  common.push(['poststarthook/start-apiserver-admission-initializer', ok], ['poststarthook/generic-apiserver-start-informers', ok]);
  return common;
}

export async function healthResponse(
  path: string,
  query: URLSearchParams,
  etcd: Check,
  ready: Check,
): Promise<{ status: number; body: string } | undefined> {
  const m = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(path);
  if (!m) return undefined;
  const endpoint = m[1] as (typeof ENDPOINTS)[number];
  const all = checksFor(endpoint, etcd, ready);
  if (m[2] !== undefined) {
    const one = all.find(([name]) => name === m[2]);
    if (!one) return { status: 404, body: '404 page not found\n' };
    return (await one[1]()) ? { status: 200, body: 'ok' } : { status: 500, body: `internal server error: ${one[0]} check failed\n` };
  }
  const excluded = new Set(query.getAll('exclude'));
  const results = await Promise.all(all.filter(([n]) => !excluded.has(n)).map(async ([n, c]) => [n, await c()] as const));
  const failed = results.some(([, r]) => !r);
  const verbose = query.has('verbose') || failed;
  if (!verbose) return { status: 200, body: 'ok' };
  const lines = results.map(([n, r]) => (r ? `[+]${n} ok` : `[-]${n} failed: reason withheld`));
  for (const e of excluded) lines.push(`[+]${e} excluded: ok`);
  lines.push(failed ? `${endpoint} check failed` : `${endpoint} check passed`);
  return { status: failed ? 500 : 200, body: `${lines.join('\n')}\n` };
}
