import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdError } from './errors.js';
import { Lessor } from './leases.js';
import { decodeRecord, raftEntries, type WalRecord } from './records.js';
import { readSnapshot, SNAPSHOT_FILE } from './snapshot.js';
import { MvccStore } from './store.js';
import { listSegments, readLog } from './wal.js';

/**
 * The data directory: `snapshot.jsonl`, `wal/<seq>.wal` segments and a
 * `lock` file holding the owner's pid. The formats are ours, not bbolt's, so
 * real etcd cannot open it (and the names differ from etcd's `member/` tree
 * so nobody mistakes one for the other).
 */
export const walDir = (dataDir: string): string => join(dataDir, 'wal');

/**
 * One process per data directory. A lock whose pid is gone (a SIGKILLed
 * predecessor) is taken over; a live owner is an error, as etcd's WAL flock
 * makes it.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(walDir(dataDir), { recursive: true });
  const lock = join(dataDir, 'lock');
  let owner = NaN;
  try {
    owner = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    // No lock yet.
  }
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
    throw new Error(`data dir ${dataDir} is in use by process ${owner}`);
  }
  writeFileSync(lock, `${process.pid}\n`);
  return () => rmSync(lock, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Recovered {
  readonly store: MvccStore;
  readonly lessor: Lessor;
  readonly raftIndex: number;
  readonly term: number;
  /** The first WAL segment the snapshot does not cover: older ones can go. */
  readonly walSeq: number;
  /** The segment to append to. */
  readonly appendSeq: number;
  readonly snapshotBytes: number;
  readonly walRecords: number;
}

/** A brand-new member: bootstrap has left raft at index 2 and term 1 (the first start makes it 4 and 2, as etcd). */
const FRESH = { raftIndex: 2, term: 1 };

/** Applies one WAL record to the state; the live server makes the same changes when it writes the record. */
export function replayRecord(store: MvccStore, lessor: Lessor, r: WalRecord): void {
  switch (r.type) {
    case 'txn':
    case 'lease-revoke': {
      const w = store.write();
      for (const op of r.ops) w.replay(op);
      w.end();
      if (store.rev !== r.rev) throw new Error(`wal: replay reached revision ${store.rev}, the record says ${r.rev}`);
      if (r.type === 'lease-revoke') lessor.remove(r.id);
      return;
    }
    case 'lease-grant':
      lessor.grant(r.id, r.ttl);
      return;
    case 'compact':
      store.compact(r.rev);
      return;
    case 'start':
      return;
  }
}

/** Loads the snapshot, then replays the WAL after it. */
export function recover(dataDir: string, now: () => number, warn: (msg: string, fields: object) => void): Recovered {
  const lessor = new Lessor(now);
  const store = new MvccStore(lessor);
  const snap = readSnapshot(dataDir);
  let { raftIndex, term } = FRESH;
  if (snap) {
    for (const l of snap.meta.leases) lessor.grant(l.id, l.ttl);
    store.restore(snap.entries, snap.meta.rev, snap.meta.compactRev);
    raftIndex = snap.meta.raftIndex;
    term = snap.meta.term;
  }
  const walSeq = snap?.meta.walSeq ?? 1;
  const payloads = readLog(walDir(dataDir), walSeq, warn);
  for (const p of payloads) {
    const r = decodeRecord(p);
    try {
      replayRecord(store, lessor, r);
    } catch (e) {
      const why = e instanceof EtcdError ? e.message : String(e);
      throw new Error(`wal: cannot replay record ${raftIndex + 1} (${r.type}): ${why}`);
    }
    raftIndex += raftEntries(r);
    if (r.type === 'start') term = r.term;
  }
  lessor.refreshAll();
  return {
    store,
    lessor,
    raftIndex,
    term,
    walSeq,
    appendSeq: Math.max(walSeq, ...listSegments(walDir(dataDir))),
    snapshotBytes: snap ? statSync(join(dataDir, SNAPSHOT_FILE)).size : 0,
    walRecords: payloads.length,
  };
}
