import { eventPb, int, key as keyField, type Pb } from './codec.js';
import { WATCH_CANCEL_REASONS } from './errors.js';
import { inSpan, spanOf, type Span } from './key-span.js';
import type { Event, KeyValue, MvccStore, RevisionEvents } from './store.js';

/** What a watch stream needs from the member: durable revision, history and new revisions. */
export interface WatchSource {
  readonly rev: number;
  readonly store: MvccStore;
  subscribe(fn: (r: RevisionEvents) => void): () => void;
}

/** WatchCreateRequest.FilterType */
const FILTER_NOPUT = 0;
const FILTER_NODELETE = 1;
/** etcd sends a catching-up watcher at most this many revisions per response (watchBatchMaxRevs). */
const MAX_REVS_PER_RESPONSE = 1000;

interface Watcher {
  readonly id: number;
  readonly span: Span;
  /** The next revision this watcher has not seen. */
  minRev: number;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  /** No events went out since the last progress tick. */
  quiet: boolean;
}

/**
 * One Watch RPC stream, as etcd's serverWatchStream + mvcc watchStream
 * behave: many watchers per stream, a `created` ack before any event, one
 * response per revision (events of one transaction together), catch-up from
 * history for a past start revision, cancellation when that history is
 * compacted, progress notifications on request and on a timer.
 */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private readonly unsubscribe: () => void;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly source: WatchSource,
    private readonly send: (res: Pb) => void,
    private readonly header: (rev: number) => Pb,
    /** How often watchers that asked for progress_notify hear the revision when quiet. */
    progressIntervalMs: number,
  ) {
    this.unsubscribe = source.subscribe((r) => this.notify(r));
    this.ticker = setInterval(() => this.tick(), progressIntervalMs);
    this.ticker.unref();
  }

  /** Handles one WatchRequest. */
  handle(req: Pb): void {
    if (req['createRequest']) this.create(req['createRequest'] as Pb);
    else if (req['cancelRequest']) this.cancel(int((req['cancelRequest'] as Pb)['watchId']));
    else if (req['progressRequest']) this.progressAll();
    // Anything else is ignored, as etcd does not end the stream over it.
  }

  close(): void {
    clearInterval(this.ticker);
    this.unsubscribe();
    this.watchers.clear();
  }

  private create(c: Pb): void {
    // An empty key watches from the smallest key, "\0".
    const key = keyField(c['key']) || '\0';
    const end = keyField(c['rangeEnd']);
    const wsrev = this.source.rev;
    const requested = int(c['watchId']);
    let error: string | undefined;
    if (end !== '' && end !== '\0' && key >= end) error = WATCH_CANCEL_REASONS.emptyRange;
    else if (requested !== 0 && this.watchers.has(requested)) error = WATCH_CANCEL_REASONS.duplicateId;
    if (error) {
      this.send({ header: this.header(wsrev), watchId: -1, created: true, canceled: true, cancelReason: error });
      return;
    }
    let id = requested;
    if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const filters = Array.isArray(c['filters']) ? (c['filters'] as unknown[]).map(int) : [];
    const start = int(c['startRevision']) || wsrev + 1;
    const w: Watcher = {
      id,
      span: spanOf(key, end),
      minRev: start,
      noPut: filters.includes(FILTER_NOPUT),
      noDelete: filters.includes(FILTER_NODELETE),
      prevKv: c['prevKv'] === true,
      progressNotify: c['progressNotify'] === true,
      quiet: true,
    };
    this.watchers.set(id, w);
    this.send({ header: this.header(wsrev), watchId: id, created: true });
    if (start <= wsrev) this.catchUp(w, wsrev);
  }

  /** An unsynced watcher replays history up to `to`, or is cancelled if that history is compacted. */
  private catchUp(w: Watcher, to: number): void {
    const { compactRev } = this.source.store;
    if (w.minRev < compactRev) {
      this.watchers.delete(w.id);
      // etcd sends no cancel_reason here and its header has revision 0.
      this.send({ header: this.header(0), watchId: w.id, canceled: true, compactRevision: compactRev });
      return;
    }
    let batch: Pb[] = [];
    let revs = 0;
    for (const r of this.source.store.eventsBetween(w.minRev, to)) {
      const evs = this.select(w, r.events);
      if (evs.length === 0) continue;
      batch.push(...evs);
      if (++revs === MAX_REVS_PER_RESPONSE) {
        this.deliver(w, batch, to);
        batch = [];
        revs = 0;
      }
    }
    if (batch.length > 0) this.deliver(w, batch, to);
    w.minRev = to + 1;
  }

  private notify(r: RevisionEvents): void {
    for (const w of this.watchers.values()) {
      if (r.rev < w.minRev) continue;
      const evs = this.select(w, r.events);
      w.minRev = r.rev + 1;
      if (evs.length > 0) this.deliver(w, evs, r.rev);
    }
  }

  private select(w: Watcher, events: readonly Event[]): Pb[] {
    const out: Pb[] = [];
    for (const e of events) {
      if (!inSpan(w.span, e.kv.key)) continue;
      if ((e.type === 'put' && w.noPut) || (e.type === 'delete' && w.noDelete)) continue;
      out.push(eventPb(e, w.prevKv ? this.previous(e) : undefined));
    }
    return out;
  }

  /** The version an event replaced, looked up at mod_revision - 1 (none for a create). */
  private previous(e: Event): KeyValue | undefined {
    if (e.type === 'put' && e.kv.createRevision === e.kv.modRevision) return undefined;
    const rev = e.kv.modRevision - 1;
    const store = this.source.store;
    return rev < store.compactRev ? undefined : store.get(e.kv.key, rev);
  }

  private deliver(w: Watcher, events: Pb[], rev: number): void {
    w.quiet = false;
    this.send({ header: this.header(rev), watchId: w.id, events });
  }

  private cancel(id: number): void {
    if (!this.watchers.delete(id)) return;
    this.send({ header: this.header(this.source.rev), watchId: id, canceled: true });
  }

  /** progress_request: one header-only response for the whole stream, if it has any watcher. */
  private progressAll(): void {
    if (this.watchers.size === 0) return;
    this.send({ header: this.header(this.source.rev), watchId: -1 });
  }

  private tick(): void {
    for (const w of this.watchers.values()) {
      if (!w.progressNotify) continue;
      if (w.quiet) this.send({ header: this.header(this.source.rev), watchId: w.id });
      w.quiet = true;
    }
  }
}
