/**
 * Label and field selectors as apimachinery parses and matches them
 * (pkg/labels/selector.go, pkg/fields/selector.go). Parsing errors carry
 * apimachinery's wording; callers turn them into 400 BadRequest.
 */
export type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

export type LabelSelector = readonly LabelRequirement[];

export class SelectorError extends Error {
  override name = 'SelectorError';
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): void {
  const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  if (!KEY.test(key) || name.length > 63) {
    throw new SelectorError(
      `unable to parse requirement: <nil>: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
}

function checkValue(key: string, value: string): void {
  if (!VALUE.test(value) || value.length > 63) {
    throw new SelectorError(
      `unable to parse requirement: values[0][${key}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-_.A-Za-z0-9]*)?[A-Za-z0-9])?')`,
    );
  }
}

/** Splits on commas that are not inside parentheses. */
function terms(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

function requirement(term: string): LabelRequirement {
  let m: RegExpExecArray | null;
  if ((m = /^!\s*(\S+)$/.exec(term))) {
    checkKey(m[1] as string);
    return { key: m[1] as string, op: '!', values: [] };
  }
  if ((m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term))) {
    const key = m[1] as string;
    checkKey(key);
    const values = (m[3] as string).split(',').map((v) => v.trim());
    for (const v of values) checkValue(key, v);
    return { key, op: m[2] as 'in' | 'notin', values };
  }
  if ((m = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)$/.exec(term))) {
    const key = m[1] as string;
    const value = m[3] as string;
    checkKey(key);
    const sym = m[2] as string;
    if (sym === '<' || sym === '>') {
      if (!/^-?\d+$/.test(value)) throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key, op: sym === '<' ? 'lt' : 'gt', values: [value] };
    }
    checkValue(key, value);
    return { key, op: sym === '!=' ? '!=' : '=', values: [value] };
  }
  if (/^[^=!<>()\s,]+$/.test(term)) {
    checkKey(term);
    return { key: term, op: 'exists', values: [] };
  }
  throw new SelectorError(`unable to parse requirement: found '${term}', expected: ',', '=', '==', '!=', 'in', 'notin'`);
}

export function parseLabelSelector(raw: string | undefined): LabelSelector {
  if (raw === undefined || raw.trim() === '') return [];
  return terms(raw).map((t) => {
    if (t === '') throw new SelectorError(`found '', expected: !, identifier, or 'end of string'`);
    return requirement(t);
  });
}

export function matchesLabels(sel: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v as string);
      case 'notin':
        return !has || !r.values.includes(v as string);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v as string)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        return r.op === 'gt' ? n > bound : n < bound;
      }
    }
  });
}

/** metav1.LabelSelector (matchLabels + matchExpressions), as webhooks' namespaceSelector/objectSelector use. */
export function matchesLabelSelectorObject(sel: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (sel === undefined || sel === null) return true;
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  const reqs: LabelRequirement[] = Object.entries(s.matchLabels ?? {}).map(([key, v]) => ({ key, op: '=', values: [v] }));
  for (const e of s.matchExpressions ?? []) {
    const op: LabelOp = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return matchesLabels(reqs, labels);
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** fields.ParseSelector: `a=b,c!=d`, with `\,` `\=` `\\` escapes in values. */
export function parseFieldSelector(raw: string | undefined): FieldSelector {
  if (raw === undefined || raw.trim() === '') return [];
  const parts = raw.split(/(?<!\\),/);
  return parts.map((p) => {
    const m = /^([^=!]+?)\s*(==|=|!=)(.*)$/s.exec(p.trim());
    if (!m) throw new SelectorError(`invalid selector: '${raw}'; can't understand '${p}'`);
    return { field: (m[1] as string).trim(), op: m[2] === '!=' ? '!=' : '=', value: unescapeField(m[3] as string) };
  });
}

/** The value a selector pins `field` to with `=`, as RequiresExactMatch does. */
export function requiresExactMatch(sel: FieldSelector, field: string): string | undefined {
  return sel.find((r) => r.field === field && r.op === '=')?.value;
}

export function matchesFields(sel: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  return sel.every((r) => {
    const v = fields[r.field] ?? '';
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
