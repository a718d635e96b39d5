import { isConflict, isNotFound, type KubeObject } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import type { NodeApi } from './kube-api.js';

/**
 * The node lease controller (component-helpers/apimachinery/lease): the
 * node's heartbeat is a Lease in kube-node-lease renewed every quarter of its
 * 40 s duration with a PUT of the last lease it wrote, so a steady node costs
 * one `HTTP PUT` root span every 10 s. A conflict or a lost lease means a GET
 * (and a POST if it is gone).
 */

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; [k: string]: unknown };
}

/** metav1.MicroTime. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export function newLease(node: string, nodeUid: string | undefined, durationSeconds: number, now: Date): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

/** The lease to PUT: the last one written, renewed now, owned by the node once its uid is known. */
export function renewedLease(base: Lease, node: string, nodeUid: string | undefined, durationSeconds: number, now: Date): Lease {
  const owned = base.metadata.ownerReferences && base.metadata.ownerReferences.length > 0;
  return {
    ...base,
    metadata: { ...base.metadata, ...(!owned && nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid }] } : {}) },
    spec: { ...base.spec, holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

export class LeaseController {
  private latest: Lease | undefined;
  private running: Promise<void> | undefined;
  private readonly path: string;
  renewals = 0;

  constructor(
    private readonly api: NodeApi,
    private readonly node: string,
    private readonly nodeUid: () => string | undefined,
    private readonly durationSeconds: number,
    private readonly log: Klog,
  ) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${node}`;
  }

  /** One renewal; never throws (the next tick tries again). A renewal still under way is not doubled. */
  sync(): Promise<void> {
    this.running ??= this.renew().finally(() => (this.running = undefined));
    return this.running;
  }

  private async renew(): Promise<void> {
    try {
      if (this.latest) {
        try {
          this.latest = await this.api.replace<Lease>(this.path, renewedLease(this.latest, this.node, this.nodeUid(), this.durationSeconds, new Date()));
          this.renewals++;
          return;
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) throw err;
          this.latest = undefined;
        }
      }
      let lease: Lease;
      try {
        lease = await this.api.get<Lease>(this.path);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const created = newLease(this.node, this.nodeUid(), this.durationSeconds, new Date());
        this.latest = await this.api.create<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, created);
        this.renewals++;
        return;
      }
      this.latest = await this.api.replace<Lease>(this.path, renewedLease(lease, this.node, this.nodeUid(), this.durationSeconds, new Date()));
      this.renewals++;
    } catch (err) {
      this.log.error('controller.go:145', 'Failed to update lease', { err: err instanceof Error ? err.message : String(err) });
    }
  }
}
