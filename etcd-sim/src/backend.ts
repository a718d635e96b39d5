import { statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { applyDeleteRange, applyPut, applyRange, applyTxn } from './apply.js';
import { IdGenerator } from './cluster.js';
import { lockDataDir, recover, walDir } from './data-dir.js';
import { EtcdError } from './errors.js';
import type { Lease, Lessor } from './leases.js';
import { encodeRecord, raftEntries, type WalRecord } from './records.js';
import type { DeleteRangeRequest, DeleteRangeResult, PutRequest, PutResult, RangeRequest, RangeResult, TxnRequest, TxnResult } from './requests.js';
import { encodeSnapshot, writeSnapshot } from './snapshot.js';
import type { Event, MvccStore, RevisionEvents, WriteTxn } from './store.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxn } from './validate.js';
import { listSegments, segmentName, Wal } from './wal.js';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: object) => void;

export interface BackendOptions {
  readonly dataDir: string;
  /** false with --unsafe-no-fsync. */
  readonly fsync: boolean;
  /** WAL records between snapshots (--snapshot-count). */
  readonly snapshotCount: number;
  readonly memberId: bigint;
  readonly log: LogFn;
  /** The WAL failed: nothing more can be made durable. */
  readonly onFatal: (err: Error) => void;
  readonly now?: () => number;
  /** How often expired leases are looked for (lessor's revoke loop runs every 500 ms). */
  readonly leaseCheckMs?: number;
}

/**
 * One etcd member's applied state and its durability: the MVCC store and the
 * lessor, a WAL record per raft entry, and periodic snapshots. Readers see
 * only durable revisions (`rev`), the way etcd applies an entry only after
 * raft has persisted it; a write is answered after its record is synced.
 */
export class Backend {
  /** The newest durable revision: what reads see and headers report. */
  rev: number;
  /** Raft index of the last durable record (etcd's committed = applied index on one member). */
  raftIndex: number;
  term: number;
  private appliedIndex: number;
  private sinceSnapshot: number;
  private snapshotting: Promise<void> | undefined;
  private snapshotBytes: number;
  private walBytes: number;
  private readonly ids: IdGenerator;
  private readonly listeners = new Set<(r: RevisionEvents) => void>();
  private readonly leaseTimer: NodeJS.Timeout;

  private constructor(
    private readonly opts: BackendOptions,
    readonly store: MvccStore,
    readonly lessor: Lessor,
    private readonly wal: Wal,
    private readonly unlock: () => void,
    r: { raftIndex: number; term: number; snapshotBytes: number; walBytes: number; walRecords: number },
  ) {
    this.rev = store.rev;
    this.raftIndex = this.appliedIndex = r.raftIndex;
    this.term = r.term;
    this.snapshotBytes = r.snapshotBytes;
    this.walBytes = r.walBytes;
    this.sinceSnapshot = r.walRecords;
    this.ids = new IdGenerator(opts.memberId, (opts.now ?? Date.now)());
    this.leaseTimer = setInterval(() => this.revokeExpired(), opts.leaseCheckMs ?? 500);
    this.leaseTimer.unref();
  }

  static async open(opts: BackendOptions): Promise<Backend> {
    const unlock = lockDataDir(opts.dataDir);
    try {
      const warn = (msg: string, fields: object): void => opts.log('warn', msg, fields);
      const r = recover(opts.dataDir, opts.now ?? Date.now, warn);
      const dir = walDir(opts.dataDir);
      const wal = await Wal.open(dir, r.appendSeq, { fsync: opts.fsync, onError: opts.onFatal });
      await wal.removeBefore(r.walSeq);
      const walBytes = listSegments(dir).reduce((n, s) => n + statSync(join(dir, segmentName(s))).size, 0);
      const b = new Backend(opts, r.store, r.lessor, wal, unlock, { ...r, walBytes });
      await b.commit({ type: 'start', term: r.term + 1 }, []);
      return b;
    } catch (e) {
      unlock();
      throw e;
    }
  }

  /** Called with every durable revision's events, in revision order. */
  subscribe(fn: (r: RevisionEvents) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  range(r: RangeRequest): RangeResult {
    checkRangeRequest(r);
    return applyRange(this.store, this.rev, r);
  }

  async put(r: PutRequest): Promise<PutResult> {
    checkPutRequest(r);
    const w = this.store.write();
    const res = applyPut(w, r, this.lessor);
    await this.commitWrite(w);
    return res;
  }

  async deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResult> {
    checkDeleteRequest(r);
    const w = this.store.write();
    const res = applyDeleteRange(w, r);
    await this.commitWrite(w);
    return res;
  }

  async txn(r: TxnRequest, maxTxnOps: number): Promise<TxnResult> {
    checkTxn(r, maxTxnOps);
    const { result, write } = applyTxn(this.store, this.rev, r, this.lessor);
    // A read-only txn is a linearizable read: no raft entry.
    if (write) await this.commitWrite(write);
    return result;
  }

  async compact(rev: number): Promise<void> {
    // Every revision a client may have seen must be durable before history goes.
    await this.wal.idle();
    if (rev <= this.store.compactRev) throw new EtcdError('compacted');
    if (rev > this.rev) throw new EtcdError('futureRev');
    this.store.compact(rev);
    await this.commit({ type: 'compact', rev }, []);
  }

  async leaseGrant(id: bigint, ttl: number): Promise<Lease> {
    const leaseId = id === 0n ? this.ids.nextLeaseId() : id;
    const lease = this.lessor.grant(leaseId, ttl);
    await this.commit({ type: 'lease-grant', id: lease.id, ttl: lease.ttl }, []);
    return lease;
  }

  /** Deletes the lease's keys in one revision (sorted, as every member must agree), then the lease. */
  async leaseRevoke(id: bigint): Promise<void> {
    const lease = this.lessor.get(id);
    if (!lease) throw new EtcdError('leaseNotFound');
    const w = this.store.write();
    for (const key of [...lease.keys].sort()) w.deleteRange({ key });
    const events = w.end();
    this.lessor.remove(id);
    await this.commit({ type: 'lease-revoke', id, rev: this.store.rev, ops: w.ops }, events);
  }

  /** HashKV: a checksum of every version up to `rev`; ours is crc32 over our encoding, not bbolt's. */
  hashKv(rev: number): { hash: number; rev: number; compactRev: number } {
    const at = rev === 0 ? this.rev : rev;
    if (at > this.rev) throw new EtcdError('futureRev');
    if (at < this.store.compactRev) throw new EtcdError('compacted');
    let hash = 0;
    for (const kv of this.store.entries()) {
      if (kv.modRevision > at) continue;
      hash = crc32(`${kv.key}\0${kv.modRevision}\0${kv.createRevision}\0${kv.version}\0${kv.lease}\0`, hash);
      hash = crc32(kv.value, hash);
    }
    return { hash, rev: at, compactRev: this.store.compactRev };
  }

  /** Bytes on disk: the snapshot plus the WAL since. */
  get dbSize(): number {
    return this.snapshotBytes + this.walBytes;
  }

  /** Defragment: rewrite the state as a fresh snapshot and drop the WAL it covers. */
  async defragment(): Promise<void> {
    await this.snapshot();
  }

  async close(): Promise<void> {
    clearInterval(this.leaseTimer);
    await this.snapshotting;
    await this.wal.close();
    this.unlock();
  }

  private async commitWrite(w: WriteTxn): Promise<void> {
    const events = w.end();
    await this.commit({ type: 'txn', rev: this.store.rev, ops: w.ops }, events);
  }

  /**
   * Appends the record of changes already applied in memory; they become
   * visible (rev, watchers) once the record is on disk, in WAL order.
   */
  private async commit(record: WalRecord, events: readonly Event[]): Promise<void> {
    this.ids.next(); // the raft request's own ID, drawn from the same sequence as lease IDs
    this.appliedIndex += raftEntries(record);
    const payload = encodeRecord(record);
    this.walBytes += payload.length + 8;
    const durable = this.wal.append(payload).then(() => {
      this.raftIndex += raftEntries(record);
      if (record.type === 'start') this.term = record.term;
      if ('rev' in record && record.type !== 'compact' && record.rev > this.rev) {
        this.rev = record.rev;
        for (const fn of this.listeners) {
          // A failing watcher must not fail the write that fed it.
          try {
            fn({ rev: record.rev, events });
          } catch (e) {
            this.opts.log('error', 'watch notification failed', { error: String(e) });
          }
        }
      }
    });
    if (++this.sinceSnapshot >= this.opts.snapshotCount && !this.snapshotting) void this.snapshot();
    try {
      await durable;
    } catch {
      throw new EtcdError('stopped');
    }
  }

  private snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting.then(() => this.snapshot());
    const walSeq = this.wal.rotate();
    const meta = {
      rev: this.store.rev,
      compactRev: this.store.compactRev,
      raftIndex: this.appliedIndex,
      term: this.term,
      walSeq,
      leases: this.lessor.list().map((l) => ({ id: l.id, ttl: l.ttl })),
    };
    const chunks = encodeSnapshot(meta, this.store.entries());
    this.sinceSnapshot = 0;
    const run = async (): Promise<void> => {
      try {
        const bytes = await writeSnapshot(this.opts.dataDir, chunks, this.opts.fsync);
        await this.wal.idle();
        await this.wal.removeBefore(walSeq);
        this.snapshotBytes = bytes;
        this.walBytes = this.wal.bytesSinceRotate;
        this.opts.log('info', 'saved snapshot', { 'snapshot-index': meta.raftIndex, revision: meta.rev, bytes });
      } catch (e) {
        this.opts.log('error', 'failed to save snapshot', { error: String(e) });
      } finally {
        this.snapshotting = undefined;
      }
    };
    this.snapshotting = run();
    return this.snapshotting;
  }

  private revokeExpired(): void {
    for (const l of this.lessor.expired()) {
      this.leaseRevoke(l.id).catch((e: unknown) => this.opts.log('warn', 'failed to revoke expired lease', { 'lease-id': l.id.toString(16), error: String(e) }));
    }
  }
}
