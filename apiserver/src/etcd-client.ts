import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Context } from '@opentelemetry/api';
import {
  ETCD_PROTO_DIR,
  loadProto,
  lookupService,
  tracedCall,
  type GrpcClientTracing,
} from '../../shared/src/index.js';

/**
 * The apiserver's one etcd client: KV, Lease and Watch over a single gRPC
 * channel, shaped like the calls kube-apiserver's etcd3 store makes
 * (protocols.md §2.5). Calls given a trace context get otelgrpc CLIENT spans
 * (kubernetes-traces.md §2.2 G); background calls (cache priming, watches)
 * run untraced.
 */
export interface EtcdKv {
  readonly key: string;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Lease ID as a decimal string; "0" for none. */
  readonly lease: string;
}

export interface RangeResult {
  readonly revision: number;
  readonly kvs: readonly EtcdKv[];
  readonly more: boolean;
  readonly count: number;
}

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** The current value from the Else branch (GetOnFailure), if any. */
  readonly current: EtcdKv | undefined;
}

export interface WatchResponse {
  readonly revision: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly events: readonly { type: 'PUT' | 'DELETE'; kv: EtcdKv; prevKv: EtcdKv | undefined }[];
}

type Pb = Record<string, unknown>;

/** CompareResult EQUAL and CompareTarget MOD, by number: the etcd3 package renames enum values. */
const EQUAL = 0;
const MOD = 2;
const CALL_TIMEOUT_MS = 30_000;

const num = (v: unknown): number => (typeof v === 'string' || typeof v === 'number' ? Number(v) : 0);

function kvOf(m: unknown): EtcdKv | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const k = m as Pb;
  return {
    key: (k['key'] as Buffer).toString('utf8'),
    value: (k['value'] as Buffer | undefined) ?? Buffer.alloc(0),
    createRevision: num(k['createRevision']),
    modRevision: num(k['modRevision']),
    version: num(k['version']),
    lease: String(k['lease'] ?? '0'),
  };
}

/** clientv3.GetPrefixRangeEnd: the prefix with its last byte incremented. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      const end = b.subarray(0, i + 1);
      end[i] = (b[i] as number) + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

export class EtcdClient {
  private readonly kv: grpc.Client;
  private readonly lease: grpc.Client;
  private readonly watchClient: grpc.Client;
  private readonly defs: Record<string, grpc.MethodDefinition<Pb, Pb>>;

  constructor(
    readonly endpoint: string,
    private readonly tracing: GrpcClientTracing | undefined,
  ) {
    const pkg = loadProto(join(ETCD_PROTO_DIR, 'rpc.proto'));
    const KV = lookupService(pkg, 'etcdserverpb.KV');
    const Lease = lookupService(pkg, 'etcdserverpb.Lease');
    const Watch = lookupService(pkg, 'etcdserverpb.Watch');
    this.kv = new KV(endpoint, grpc.credentials.createInsecure());
    const shared = { channelOverride: this.kv.getChannel() };
    this.lease = new Lease(endpoint, grpc.credentials.createInsecure(), shared);
    this.watchClient = new Watch(endpoint, grpc.credentials.createInsecure(), shared);
    this.defs = {
      Range: KV.service['Range'] as grpc.MethodDefinition<Pb, Pb>,
      Txn: KV.service['Txn'] as grpc.MethodDefinition<Pb, Pb>,
      LeaseGrant: Lease.service['LeaseGrant'] as grpc.MethodDefinition<Pb, Pb>,
      Watch: Watch.service['Watch'] as grpc.MethodDefinition<Pb, Pb>,
    };
  }

  private call(client: grpc.Client, method: string, req: Pb, ctx: Context | undefined): Promise<Pb> {
    const def = this.defs[method] as grpc.MethodDefinition<Pb, Pb>;
    return tracedCall(ctx ? this.tracing : undefined, client, def, req, ctx, { deadline: Date.now() + CALL_TIMEOUT_MS });
  }

  private static range(res: Pb): RangeResult {
    return {
      revision: num((res['header'] as Pb | undefined)?.['revision']),
      kvs: ((res['kvs'] as unknown[]) ?? []).map((k) => kvOf(k) as EtcdKv),
      more: res['more'] === true,
      count: num(res['count']),
    };
  }

  /** Range {key}: the store's Get. */
  async get(key: string, ctx?: Context): Promise<RangeResult> {
    return EtcdClient.range(await this.call(this.kv, 'Range', { key: Buffer.from(key) }, ctx));
  }

  /** Range over a prefix from `from` (a continue key) with limit and revision: the store's List. */
  async list(prefix: string, o: { limit?: number; revision?: number; from?: string }, ctx?: Context): Promise<RangeResult> {
    const req: Pb = { key: Buffer.from(o.from ?? prefix), rangeEnd: prefixEnd(prefix) };
    if (o.limit) req['limit'] = o.limit;
    if (o.revision) req['revision'] = o.revision;
    return EtcdClient.range(await this.call(this.kv, 'Range', req, ctx));
  }

  /** Txn If ModRevision(key)=rev Then Put [Else Range]: OptimisticPut (rev 0 is a create). */
  async optimisticPut(key: string, value: Buffer, rev: number, o: { lease?: string; getOnFailure?: boolean }, ctx?: Context): Promise<TxnResult> {
    const k = Buffer.from(key);
    const put: Pb = { key: k, value };
    if (o.lease) put['lease'] = o.lease;
    const res = await this.call(
      this.kv,
      'Txn',
      {
        compare: [{ result: EQUAL, target: MOD, key: k, modRevision: rev }],
        success: [{ requestPut: put }],
        failure: o.getOnFailure ? [{ requestRange: { key: k } }] : [],
      },
      ctx,
    );
    return EtcdClient.txn(res);
  }

  /** Txn If ModRevision(key)=rev Then DeleteRange Else Range: OptimisticDelete. */
  async optimisticDelete(key: string, rev: number, ctx?: Context): Promise<TxnResult> {
    const k = Buffer.from(key);
    const res = await this.call(
      this.kv,
      'Txn',
      {
        compare: [{ result: EQUAL, target: MOD, key: k, modRevision: rev }],
        success: [{ requestDeleteRange: { key: k } }],
        failure: [{ requestRange: { key: k } }],
      },
      ctx,
    );
    return EtcdClient.txn(res);
  }

  private static txn(res: Pb): TxnResult {
    const succeeded = res['succeeded'] === true;
    let current: EtcdKv | undefined;
    if (!succeeded) {
      const first = ((res['responses'] as Pb[] | undefined) ?? [])[0];
      const range = first?.['responseRange'] as Pb | undefined;
      current = kvOf(((range?.['kvs'] as unknown[]) ?? [])[0]);
    }
    return { succeeded, revision: num((res['header'] as Pb | undefined)?.['revision']), current };
  }

  async leaseGrant(ttlSeconds: number, ctx?: Context): Promise<string> {
    const res = await this.call(this.lease, 'LeaseGrant', { TTL: ttlSeconds }, ctx);
    return String(res['ID']);
  }

  /** A bidirectional Watch stream; several watchers share it, as clientv3 groups them. */
  openWatchStream(): grpc.ClientDuplexStream<Pb, Pb> {
    const def = this.defs['Watch'] as grpc.MethodDefinition<Pb, Pb>;
    return this.watchClient.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata());
  }

  static watchResponse(m: Pb): { watchId: number; res: WatchResponse } {
    const events = ((m['events'] as Pb[] | undefined) ?? []).map((e) => ({
      type: num(e['type']) === 1 ? ('DELETE' as const) : ('PUT' as const),
      kv: kvOf(e['kv']) as EtcdKv,
      prevKv: kvOf(e['prevKv']),
    }));
    return {
      watchId: num(m['watchId']),
      res: {
        revision: num((m['header'] as Pb | undefined)?.['revision']),
        created: m['created'] === true,
        canceled: m['canceled'] === true,
        compactRevision: num(m['compactRevision']),
        events,
      },
    };
  }

  close(): void {
    this.watchClient.close();
    this.lease.close();
    this.kv.close();
  }
}
