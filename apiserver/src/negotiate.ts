import { statusErrors } from '../../shared/src/index.js';

/**
 * Response content negotiation (endpoints/handlers/negotiation): plain JSON
 * or YAML, or a conversion kubectl asks for with Accept parameters — a
 * meta.k8s.io Table or PartialObjectMetadata. Protobuf is not spoken; a
 * client listing JSON after it gets JSON.
 */
export type Output =
  | { readonly kind: 'object'; readonly mediaType: 'application/json' | 'application/yaml' }
  | { readonly kind: 'table'; readonly version: 'v1' | 'v1beta1'; readonly mediaType: string }
  | { readonly kind: 'partial'; readonly version: 'v1' | 'v1beta1'; readonly mediaType: string };

interface Clause {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

export function parseAccept(accept: string | undefined): Clause[] {
  if (accept === undefined || accept.trim() === '') return [{ type: '*/*', params: {}, q: 1 }];
  const clauses = accept.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    const q = params['q'] !== undefined ? Number(params['q']) : 1;
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
  });
  // Stable sort by q: goautoneg keeps the client's order among equals.
  return clauses.map((c, i) => ({ c, i })).sort((a, b) => b.c.q - a.c.q || a.i - b.i).map((x) => x.c);
}

export function negotiateOutput(accept: string | undefined, conversions: boolean): Output {
  for (const c of parseAccept(accept)) {
    if (c.q <= 0) continue;
    const as = c.params['as'];
    if (c.type === 'application/json' && as !== undefined) {
      const g = c.params['g'];
      const v = c.params['v'];
      if (!conversions || g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
      if (as === 'Table') return { kind: 'table', version: v, mediaType: `application/json;as=Table;v=${v};g=meta.k8s.io` };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
        return { kind: 'partial', version: v, mediaType: `application/json;as=${as};v=${v};g=meta.k8s.io` };
      }
      continue;
    }
    if (c.type === 'application/json' || c.type === '*/*' || c.type === 'application/*') return { kind: 'object', mediaType: 'application/json' };
    if (c.type === 'application/yaml') return { kind: 'object', mediaType: 'application/yaml' };
  }
  throw statusErrors.notAcceptable('only the following media types are accepted: application/json, application/yaml');
}

/** TableOptions.includeObject from the query: Metadata (default), Object or None. */
export function includeObject(q: URLSearchParams): 'Metadata' | 'Object' | 'None' {
  const v = q.get('includeObject');
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'Object' || v === 'None') return v;
  throw statusErrors.badRequest(`unrecognized includeObject value: "${v}"`);
}
