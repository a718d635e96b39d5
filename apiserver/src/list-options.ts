import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { goJsonSyntaxError } from './go-json.js';
import { checkFieldSelector, objectFields } from './object-fields.js';
import type { ResourceInfo } from './resources.js';
import {
  SelectorError,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';

/** metav1.ListOptions as the list and watch handlers read them from the query. */
export interface ListOptions {
  readonly label: LabelSelector;
  readonly field: FieldSelector;
  readonly limit: number;
  readonly continueToken: string;
  readonly resourceVersion: string;
  readonly resourceVersionMatch: string;
  readonly watch: boolean;
  readonly allowWatchBookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly sendInitialEvents: boolean | undefined;
}

const bool = (v: string | null): boolean => v !== null && v !== '' && v.toLowerCase() !== 'false' && v !== '0';

function int(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw statusErrors.badRequest(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

const invalid = (field: string, message: string): never => {
  throw statusErrors.invalid('ListOptions', '', [{ reason: 'FieldValueForbidden', message, field }], 'meta.k8s.io');
};

/** DecodeParameters + ValidateListOptions for one resource (field labels are per registry). */
export function parseListOptions(info: ResourceInfo, q: URLSearchParams, forceWatch: boolean): ListOptions {
  let label: LabelSelector;
  let field: FieldSelector;
  try {
    label = parseLabelSelector(q.get('labelSelector') ?? undefined);
    field = parseFieldSelector(q.get('fieldSelector') ?? undefined);
  } catch (e) {
    if (e instanceof SelectorError) throw statusErrors.badRequest(e.message);
    throw e;
  }
  checkFieldSelector(info, field);
  const limit = int(q.get('limit')) ?? 0;
  const rv = q.get('resourceVersion') ?? '';
  const rvm = q.get('resourceVersionMatch') ?? '';
  if (rv !== '' && !/^\d+$/.test(rv)) throw statusErrors.badRequest(`invalid resource version: ${rv}`);
  const sie = q.get('sendInitialEvents');
  const opts: ListOptions = {
    label,
    field,
    limit: limit < 0 ? 0 : limit,
    continueToken: q.get('continue') ?? '',
    resourceVersion: rv,
    resourceVersionMatch: rvm,
    watch: forceWatch || bool(q.get('watch')),
    allowWatchBookmarks: bool(q.get('allowWatchBookmarks')),
    timeoutSeconds: int(q.get('timeoutSeconds')),
    sendInitialEvents: sie === null ? undefined : bool(sie),
  };
  validate(opts);
  return opts;
}

function validate(o: ListOptions): void {
  if (o.sendInitialEvents !== undefined) {
    if (!o.watch) invalid('sendInitialEvents', 'sendInitialEvents is forbidden for list');
    if (o.resourceVersionMatch !== 'NotOlderThan') {
      invalid('resourceVersionMatch', "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    }
    if (o.sendInitialEvents && !o.allowWatchBookmarks) invalid('allowWatchBookmarks', 'allowWatchBookmarks must be set to true when sendInitialEvents is true');
    return;
  }
  if (o.resourceVersionMatch === '') return;
  if (o.watch) invalid('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch');
  if (o.resourceVersion === '') invalid('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (o.continueToken !== '') invalid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
  if (o.resourceVersionMatch !== 'Exact' && o.resourceVersionMatch !== 'NotOlderThan') {
    throw statusErrors.invalid('ListOptions', '', [
      {
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: "${o.resourceVersionMatch}": supported values: "Exact", "NotOlderThan", ""`,
        field: 'resourceVersionMatch',
      },
    ], 'meta.k8s.io');
  }
  if (o.resourceVersionMatch === 'Exact' && o.resourceVersion === '0') {
    invalid('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
}

/** The selection predicate: labels and selectable fields of one object. */
export function matchesPredicate(info: ResourceInfo, o: Pick<ListOptions, 'label' | 'field'>, obj: KubeObject): boolean {
  if (o.label.length > 0 && !matchesLabels(o.label, obj.metadata.labels)) return false;
  if (o.field.length > 0 && !matchesFields(o.field, objectFields(info, obj))) return false;
  return true;
}

export function predicateEmpty(o: Pick<ListOptions, 'label' | 'field'>): boolean {
  return o.label.length === 0 && o.field.length === 0;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

/** storage.EncodeContinue: base64url (no padding) JSON of the next key relative to the prefix. */
export function encodeContinue(nextKey: string, keyPrefix: string, rv: number): string {
  const start = nextKey.startsWith(keyPrefix) ? nextKey.slice(keyPrefix.length) : nextKey;
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

/** storage.DecodeContinue; errors are 400 "invalid continue token: …". */
export function decodeContinue(token: string, keyPrefix: string): { fromKey: string; rv: number } {
  const bad = (why: string): never => {
    throw statusErrors.badRequest(`invalid continue token: ${why}`);
  };
  const badChar = token.search(/[^A-Za-z0-9_-]/);
  if (badChar >= 0) return bad(`continue key is not valid: illegal base64 data at input byte ${badChar}`);
  const text = Buffer.from(token, 'base64url').toString('utf8');
  let c: Partial<ContinueToken>;
  try {
    c = JSON.parse(text) as Partial<ContinueToken>;
  } catch {
    return bad(`continue key is not valid: ${goJsonSyntaxError(text)}`);
  }
  if (c === null || typeof c !== 'object') return bad('continue key is not valid: json: cannot unmarshal into Go value of type storage.continueToken');
  if (c.v !== 'meta.k8s.io/v1') return bad(`continue key is not valid: server does not recognize this encoded version ${String(c.v ?? '')}`);
  if (!c.rv) return bad('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (!c.start) return bad('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
  const key = c.start.startsWith('/') ? c.start : `/${c.start}`;
  if (key.split('/').some((p) => p === '..' || p === '.') || key.includes('//')) return bad(`continue key is not valid: ${c.start}`);
  return { fromKey: keyPrefix + key.slice(1), rv: c.rv };
}
