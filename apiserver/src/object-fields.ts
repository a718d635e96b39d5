import type { KubeObject } from '../../shared/src/index.js';
import { statusErrors } from '../../shared/src/index.js';
import type { ResourceInfo } from './resources.js';
import type { FieldSelector } from './selectors.js';

/**
 * The selectable fields of an object (each registry's GetAttrs / ToSelectableFields)
 * and the check that a field selector only names them (ConvertFieldLabel).
 */
function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const p of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function objectFields(info: ResourceInfo, obj: KubeObject): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': str(obj.metadata.name) };
  if (info.namespaced) fields['metadata.namespace'] = str(obj.metadata.namespace);
  for (const f of info.fieldLabels) {
    if (f === 'source') fields[f] = str(at(obj, 'source.component'));
    else if (f === 'spec.hostNetwork') fields[f] = at(obj, f) === true ? 'true' : 'false';
    else if (f === 'spec.unschedulable') fields[f] = at(obj, f) === true ? 'true' : 'false';
    else fields[f] = str(at(obj, f));
  }
  return fields;
}

/** A 400 for a field the resource cannot select on, in that registry's wording. */
export function checkFieldSelector(info: ResourceInfo, sel: FieldSelector): void {
  for (const r of sel) {
    if (r.field === 'metadata.name' || (info.namespaced && r.field === 'metadata.namespace')) continue;
    if (info.fieldLabels.includes(r.field)) continue;
    if (info.fieldLabels.length > 0 && info.group === '') throw statusErrors.badRequest(`field label not supported: ${r.field}`);
    throw statusErrors.badRequest(`"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
  }
}
