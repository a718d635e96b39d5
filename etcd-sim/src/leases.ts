import { EtcdError } from './errors.js';
import type { Key } from './key-span.js';
import type { LeaseHooks } from './store.js';

/** lease.MaxLeaseTTL: 9e9 seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * etcd's minimum TTL: a lease must outlive a leader election, so the server
 * raises shorter TTLs to ceil(1.5 × election timeout) = 2 s with the default
 * 1000 ms election timeout (etcdserver.NewServer, MinLeaseTTL).
 */
export const MIN_LEASE_TTL = 2;

export interface Lease {
  readonly id: bigint;
  /** Granted TTL in seconds, after the minimum was applied. */
  readonly ttl: number;
  /** When it runs out (ms since epoch). */
  expiry: number;
  readonly keys: Set<Key>;
}

/**
 * The leader's lessor: leases, their deadlines and the keys attached to them.
 * Time comes in as `now` so expiry is testable; revoking a lease's keys is the
 * caller's job (it needs a write transaction), after which it calls remove().
 */
export class Lessor implements LeaseHooks {
  private readonly leases = new Map<bigint, Lease>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.leases.size;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  /** Checks a grant without making it, so a failed grant writes nothing. */
  checkGrant(id: bigint, ttl: number): void {
    if (id === 0n) throw new EtcdError('leaseNotFound');
    if (ttl > MAX_LEASE_TTL) throw new EtcdError('leaseTtlTooLarge');
    if (this.leases.has(id)) throw new EtcdError('leaseExist');
  }

  grant(id: bigint, ttl: number): Lease {
    this.checkGrant(id, ttl);
    const granted = Math.max(ttl, MIN_LEASE_TTL);
    const lease: Lease = { id, ttl: granted, expiry: this.now() + granted * 1000, keys: new Set() };
    this.leases.set(id, lease);
    return lease;
  }

  /** Forgets a revoked lease (its keys must already be deleted). */
  remove(id: bigint): void {
    this.leases.delete(id);
  }

  /** KeepAlive: the lease runs its full TTL again from now. An expired lease is as good as gone. */
  renew(id: bigint): number {
    const lease = this.leases.get(id);
    if (!lease || lease.expiry <= this.now()) throw new EtcdError('leaseNotFound');
    lease.expiry = this.now() + lease.ttl * 1000;
    return lease.ttl;
  }

  /** Whole seconds left, truncated like Go's int64(Remaining().Seconds()). */
  remaining(lease: Lease): number {
    return Math.trunc((lease.expiry - this.now()) / 1000);
  }

  /** LeaseLeases lists by deadline, soonest first (lessor.Leases sorts by expiry). */
  list(): Lease[] {
    return [...this.leases.values()].sort((a, b) => a.expiry - b.expiry);
  }

  expired(): Lease[] {
    const now = this.now();
    return this.list().filter((l) => l.expiry <= now);
  }

  /**
   * After a restart the new leader refreshes every lease to a full TTL from
   * now (lessor.Promote): etcd does not persist remaining time by default.
   */
  refreshAll(): void {
    for (const l of this.leases.values()) l.expiry = this.now() + l.ttl * 1000;
  }

  attach(id: bigint, key: Key): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(id: bigint, key: Key): void {
    this.leases.get(id)?.keys.delete(key);
  }
}
