import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from '../../shared/src/index.js';
import type { OpContext, Registry } from './registry.js';
import { resourceByName } from './resources.js';
import type { RequestTrace, Tracers } from './trace-context.js';

/** The namespaces kube-apiserver's system-namespaces controller makes sure exist. */
export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

/**
 * A context for the apiserver's own background writes: an unsampled parent,
 * so nothing it does is recorded and etcd is told not to sample either.
 * Upstream does these through its loopback client; we go straight to the
 * registry and leave them out of the traces.
 */
export function backgroundTrace(tracers: Tracers): RequestTrace {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  });
  return { tracers, ctx, auditId: '' };
}

export function backgroundOp(tracers: Tracers): OpContext {
  const rt = backgroundTrace(tracers);
  return { rt, span: trace.getSpan(rt.ctx) as NonNullable<ReturnType<typeof trace.getSpan>>, user: { username: 'system:apiserver', groups: ['system:masters'] }, serverSpan: undefined };
}

export async function bootstrapNamespaces(registry: Registry, tracers: Tracers): Promise<void> {
  const info = resourceByName('namespaces');
  const storage = registry.storage(info);
  for (const name of DEFAULT_NAMESPACES) {
    if (storage.cacher.cache.get(storage.store.etcdKey(storage.key('', name)))) continue;
    try {
      await registry.create(backgroundOp(tracers), info, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false, options: {} });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  // Reads right after start must see them: wait until the cache has the last write.
  const last = storage.cacher.cache;
  for (const name of DEFAULT_NAMESPACES) {
    const deadline = Date.now() + 5000;
    while (!last.get(storage.store.etcdKey(storage.key('', name))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
