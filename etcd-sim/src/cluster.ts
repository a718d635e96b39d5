import { createHash } from 'node:crypto';

/**
 * Identity of the single member, computed the way etcd computes it so a
 * given configuration gets the IDs real etcd would report (the default
 * member 8e9e05c52164694d in cluster cdf818194e3a8c32).
 */

/** membership.computeMemberID: SHA-1 of the sorted peer URLs plus the cluster token, first 8 bytes. */
export function memberId(peerUrls: readonly string[], clusterToken: string): bigint {
  const joined = [...peerUrls].sort().join('') + clusterToken;
  return createHash('sha1').update(joined).digest().readBigUInt64BE(0);
}

/** RaftCluster.genID: SHA-1 of the sorted member IDs as big-endian uint64s, first 8 bytes. */
export function clusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => b.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(b).digest().readBigUInt64BE(0);
}

/** Lowercase hex without padding, as etcd prints types.ID. */
export const idHex = (id: bigint): string => id.toString(16);

const SUFFIX_BITS = 48n;
const TS_BITS = 40n;
const COUNT_BITS = 8n;
const mask = (bits: bigint): bigint => (1n << bits) - 1n;

/**
 * idutil.Generator: the member ID's low 16 bits, then 40 bits of the start
 * time in ms and an 8-bit counter that carries into the time. etcd draws one
 * ID per raft request and lease IDs from the same sequence, which is why
 * consecutive lease IDs from a busy server are not consecutive numbers.
 */
export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(member: bigint, nowMs: number) {
    this.prefix = (member & 0xffffn) << SUFFIX_BITS;
    this.suffix = (BigInt(Math.floor(nowMs)) & mask(TS_BITS)) << COUNT_BITS;
  }

  next(): bigint {
    this.suffix++;
    return this.prefix | (this.suffix & mask(SUFFIX_BITS));
  }

  /** A lease ID: the next ID made positive, as LeaseGrant does (id & (1<<63 - 1)). */
  nextLeaseId(): bigint {
    let id = 0n;
    while (id === 0n) id = this.next() & mask(63n);
    return id;
  }
}
