import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ETCD_PROTO_DIR, loadProto, lookupService } from '../../shared/src/index.js';

export type Msg = Record<string, unknown>;

/** A call's outcome: the response, or the gRPC error's code and message. */
export type Outcome = Msg | { code: number; details: string };

type Callback = (err: grpc.ServiceError | null, res: Msg) => void;
type UnaryFn = (req: Msg, md: grpc.Metadata, cb: Callback) => void;

/** A tiny promise client for every etcd service, the way tests want it. */
export class EtcdClient {
  private readonly clients: Record<string, grpc.Client> = {};

  constructor(readonly address: string) {
    const pkg = loadProto(join(ETCD_PROTO_DIR, 'rpc.proto'));
    for (const s of ['KV', 'Watch', 'Lease', 'Maintenance', 'Cluster']) {
      const Ctor = lookupService(pkg, `etcdserverpb.${s}`);
      this.clients[s] = new Ctor(address, grpc.credentials.createInsecure());
    }
  }

  /** Resolves with the response or rejects with the ServiceError. */
  call(service: string, method: string, req: Msg = {}, md = new grpc.Metadata()): Promise<Msg> {
    const c = this.clients[service] as grpc.Client & Record<string, UnaryFn>;
    const fn = c[method] as UnaryFn;
    return new Promise((resolve, reject) => fn.call(c, req, md, (err, res) => (err ? reject(err) : resolve(res))));
  }

  /** Never rejects: gRPC errors come back as { code, details }. */
  async try(service: string, method: string, req: Msg = {}, md?: grpc.Metadata): Promise<Outcome> {
    try {
      return await this.call(service, method, req, md);
    } catch (e) {
      const err = e as grpc.ServiceError;
      return { code: err.code, details: err.details };
    }
  }

  put(key: string, value: string, extra: Msg = {}): Promise<Msg> {
    return this.call('KV', 'Put', { key: Buffer.from(key), value: Buffer.from(value), ...extra });
  }

  range(key: string, extra: Msg = {}): Promise<Msg> {
    return this.call('KV', 'Range', { key: Buffer.from(key), ...extra });
  }

  /** Opens a bidi stream (Watch/Watch, Lease/LeaseKeepAlive) that collects what arrives. */
  stream(service: string, method: string, md = new grpc.Metadata()): BidiStream {
    const c = this.clients[service] as grpc.Client & Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Msg, Msg>>;
    return new BidiStream((c[method] as (md: grpc.Metadata) => grpc.ClientDuplexStream<Msg, Msg>).call(c, md));
  }

  close(): void {
    for (const c of Object.values(this.clients)) c.close();
  }
}

export class BidiStream {
  readonly received: Msg[] = [];
  error: grpc.ServiceError | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly call: grpc.ClientDuplexStream<Msg, Msg>) {
    call.on('data', (m: Msg) => {
      this.received.push(m);
      this.wake();
    });
    call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.wake();
    });
  }

  write(m: Msg): void {
    this.call.write(m);
  }

  /** Waits until `n` messages have arrived in total; returns them all. */
  async until(n: number, timeoutMs = 5000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.received.length} of ${n} messages: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  close(): void {
    this.call.cancel();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Buffers in responses, as readable strings. */
export const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));

export const kvs = (res: Msg): string[] =>
  ((res['kvs'] as Msg[] | undefined) ?? []).map((kv) => `${str(kv['key'])}=${str(kv['value'])}`);
