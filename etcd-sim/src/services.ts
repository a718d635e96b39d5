import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcError } from '../../shared/src/index.js';
import type { Backend } from './backend.js';
import * as codec from './codec.js';
import { EtcdError } from './errors.js';
import { bytesOf } from './key-span.js';
import { DEFAULT_ETCD_VERSION } from './spans.js';

/** The version etcd-sim reports by default: new enough that kube-apiserver enables RequestWatchProgress. */
export const ETCD_VERSION = DEFAULT_ETCD_VERSION;

export interface MemberInfo {
  readonly name: string;
  readonly id: bigint;
  readonly clusterId: bigint;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

export type Unary = (req: codec.Pb) => codec.Pb | Promise<codec.Pb>;
type Header = () => codec.Pb;

/** Lease's unary RPCs (v3rpc/lease.go). */
export function leaseHandlers(backend: Backend, header: Header): Record<string, Unary> {
  return {
    LeaseGrant: async (req) => {
      const lease = await backend.leaseGrant(codec.int64(req['ID']), codec.int(req['TTL']));
      return { header: header(), ID: lease.id.toString(), TTL: lease.ttl, error: '' };
    },
    LeaseRevoke: async (req) => {
      await backend.leaseRevoke(codec.int64(req['ID']));
      return { header: header() };
    },
    LeaseTimeToLive: (req) => {
      const id = codec.int64(req['ID']);
      const lease = backend.lessor.get(id);
      // An unknown lease is not an error here: TTL -1 says it is gone.
      if (!lease) return { header: header(), ID: id.toString(), TTL: -1, grantedTTL: 0, keys: [] };
      const keys = req['keys'] === true ? [...lease.keys].sort().map(bytesOf) : [];
      return { header: header(), ID: id.toString(), TTL: backend.lessor.remaining(lease), grantedTTL: lease.ttl, keys };
    },
    LeaseLeases: () => ({ header: header(), leases: backend.lessor.list().map((l) => ({ ID: l.id.toString() })) }),
  };
}

/**
 * One LeaseKeepAliveRequest. The header is taken before the renewal, as etcd
 * does, and an unknown or expired lease answers TTL 0 instead of an error.
 */
export function keepAlive(backend: Backend, header: Header, req: codec.Pb): codec.Pb {
  const id = codec.int64(req['ID']);
  const res = { header: header(), ID: id.toString(), TTL: 0 };
  try {
    res.TTL = backend.lessor.renew(id);
  } catch (e) {
    if (!(e instanceof EtcdError && e.kind === 'leaseNotFound')) throw e;
  }
  return res;
}

export function maintenanceHandlers(
  backend: Backend,
  member: MemberInfo,
  header: (rev: number) => codec.Pb,
  version: string = ETCD_VERSION,
): Record<string, Unary> {
  return {
    Status: () => ({
      header: header(backend.rev),
      version,
      dbSize: backend.dbSize,
      dbSizeInUse: backend.store.bytes,
      leader: member.id.toString(),
      raftIndex: backend.raftIndex,
      raftTerm: backend.term,
      raftAppliedIndex: backend.raftIndex,
      errors: [],
      isLearner: false,
    }),
    Alarm: (req) => {
      // AlarmAction GET (0) lists alarms; this member never raises any (no quota, no corruption checks).
      if (codec.int(req['action']) !== 0) throw new GrpcError(GrpcStatus.UNIMPLEMENTED, 'etcd-sim: activating or deactivating alarms is not supported');
      return { header: header(backend.rev), alarms: [] };
    },
    // etcd 3.5 answers Defragment without a header.
    Defragment: async () => {
      await backend.defragment();
      return {};
    },
    HashKV: (req) => {
      const h = backend.hashKv(codec.int(req['revision']));
      return { header: header(h.rev), hash: h.hash, compactRevision: h.compactRev };
    },
  };
}

export function clusterHandlers(member: MemberInfo, header: Header): Record<string, Unary> {
  return {
    // ClusterServer.header() leaves the revision out.
    MemberList: () => ({
      header: { ...header(), revision: 0 },
      members: [{ ID: member.id.toString(), name: member.name, peerURLs: member.peerUrls, clientURLs: member.clientUrls, isLearner: false }],
    }),
  };
}
