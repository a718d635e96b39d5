import type { KubeObject, StatusCause } from '../../shared/src/index.js';

/**
 * apimachinery's validation helpers with their exact messages
 * (util/validation/validation.go, api/validation/objectmeta.go). Each check
 * returns field errors as StatusCauses; the registry turns a non-empty list
 * into one 422 Invalid.
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export type NameCheck = (name: string, prefix: boolean) => string[];

/** Go's %q for the value shown in "Invalid value". */
export function goQuote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? 'null';
}

export const invalid = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${goQuote(value)}: ${detail}`,
  field,
});
export const required = (field: string, detail = ''): StatusCause => ({
  reason: 'FieldValueRequired',
  message: detail === '' ? 'Required value' : `Required value: ${detail}`,
  field,
});
export const notSupported = (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${goQuote(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  field,
});
export const duplicate = (field: string, value: unknown): StatusCause => ({
  reason: 'FieldValueDuplicate',
  message: `Duplicate value: ${goQuote(value)}`,
  field,
});
export const forbidden = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });

/** A generateName prefix may end in '-'; it is checked with that trimmed, as maskTrailingDash does. */
function masked(name: string, prefix: boolean): string {
  return prefix && name.length > 1 && name.endsWith('-') ? name.slice(0, -1) : name;
}

export const dns1123Label: NameCheck = (name, prefix) => {
  const n = masked(name, prefix);
  const errs: string[] = [];
  if (n.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(n)) errs.push(DNS1123_LABEL_MSG);
  return errs;
};

export const dns1123Subdomain: NameCheck = (name, prefix) => {
  const n = masked(name, prefix);
  const errs: string[] = [];
  if (n.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(n)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
};

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function qualifiedNameErrors(key: string): string[] {
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const errs: string[] = [];
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME.test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  }
  if (prefix !== undefined && (prefix.length === 0 || !DNS1123_SUBDOMAIN.test(prefix))) {
    errs.push(`prefix part ${DNS1123_SUBDOMAIN_MSG}`);
  }
  return errs;
}

function labelErrors(field: string, labels: unknown): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) return [invalid(field, labels, 'must be a map of strings')];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const e of qualifiedNameErrors(k)) out.push(invalid(field, k, e));
    if (typeof v !== 'string') out.push(invalid(`${field}[${k}]`, v, 'must be a string'));
    else if (v.length > 63 || !LABEL_VALUE.test(v)) {
      out.push(
        invalid(
          field,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
      );
    }
  }
  return out;
}

/** ValidateObjectMeta: name (or generateName), namespace presence, labels and annotations keys. */
export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameCheck: NameCheck): StatusCause[] {
  const m = obj.metadata;
  const out: StatusCause[] = [];
  if (typeof m.generateName === 'string' && m.generateName !== '') {
    for (const e of nameCheck(m.generateName, true)) out.push(invalid('metadata.generateName', m.generateName, e));
  }
  if (typeof m.name !== 'string' || m.name === '') out.push(required('metadata.name', 'name or generateName is required'));
  else for (const e of nameCheck(m.name, false)) out.push(invalid('metadata.name', m.name, e));
  if (namespaced && (typeof m.namespace !== 'string' || m.namespace === '')) out.push(required('metadata.namespace'));
  if (!namespaced && typeof m.namespace === 'string' && m.namespace !== '') out.push(forbidden('metadata.namespace', 'not allowed on this type'));
  out.push(...labelErrors('metadata.labels', m.labels));
  if (m.annotations !== undefined && m.annotations !== null) {
    for (const k of Object.keys(m.annotations)) for (const e of qualifiedNameErrors(k)) out.push(invalid('metadata.annotations', k, e));
  }
  return out;
}
