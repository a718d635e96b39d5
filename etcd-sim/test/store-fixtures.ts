/** Request builders and store helpers shared by the store and txn table tests. */
import { EtcdError } from '../src/errors.js';
import type { Compare, PutRequest, RangeRequest } from '../src/requests.js';
import { MvccStore, type KeyValue } from '../src/store.js';

export const rangeReq = (o: Partial<RangeRequest> & { key: string }): RangeRequest => ({
  rangeEnd: '',
  limit: 0,
  revision: 0,
  sortOrder: 0,
  sortTarget: 0,
  keysOnly: false,
  countOnly: false,
  minModRevision: 0,
  maxModRevision: 0,
  minCreateRevision: 0,
  maxCreateRevision: 0,
  ...o,
});
export const putReq = (key: string, value: string, o: Partial<PutRequest> = {}): PutRequest => ({
  key,
  value: Buffer.from(value),
  lease: 0n,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
  ...o,
});
export const cmp = (key: string, target: number, result: number, operand: Compare['operand'], rangeEnd = ''): Compare => ({
  key,
  target,
  result,
  operand,
  rangeEnd,
});

/** Runs puts (one revision each) and returns the store: revisions go 2, 3, 4… */
export function storeWith(...writes: ([string, string] | ['del', string])[]): MvccStore {
  const s = new MvccStore();
  for (const w of writes) {
    const txn = s.write();
    if (w[0] === 'del') txn.deleteRange({ key: w[1] });
    else txn.put(w[0], Buffer.from(w[1]), 0n);
    txn.end();
  }
  return s;
}

export const brief = (kvs: readonly KeyValue[]): string[] => kvs.map((kv) => `${kv.key}=${kv.value.toString()}@${kv.createRevision}/${kv.modRevision}/v${kv.version}`);
export const errKind = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof EtcdError ? e.kind : String(e);
  }
};

