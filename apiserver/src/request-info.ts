import { parseFieldSelector, requiresExactMatch } from './selectors.js';

/**
 * What kube-apiserver's RequestInfoFactory (endpoints/request/requestinfo.go)
 * reads from a URL: whether it is a resource request and its group, version,
 * namespace, resource, name, subresource and verb. Span names, traceFields,
 * routing and the verb attribute all derive from this one parse.
 */
export interface RequestInfo {
  readonly isResourceRequest: boolean;
  readonly path: string;
  /** get list watch create update patch delete deletecollection proxy, or the lower-case method for non-resource requests. */
  readonly verb: string;
  readonly apiPrefix: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** `/api/v1/watch/...`: the legacy watch path. */
  readonly legacyWatch: boolean;
}

const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const GROUPLESS_PREFIXES = new Set(['api']);
const PREFIXES = new Set(['api', 'apis']);

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** path.IsValidPathSegmentName */
export function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

function watchRequested(query: URLSearchParams): boolean {
  const v = query.get('watch');
  return v !== null && v.toLowerCase() !== 'false' && v !== '0';
}

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const base = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    legacyWatch: false,
  };
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let parts = trimmed === '' ? [] : trimmed.split('/');
  if (parts.length < 3 || !PREFIXES.has(parts[0] as string)) return base;
  const apiPrefix = parts[0] as string;
  parts = parts.slice(1);
  let apiGroup = '';
  if (!GROUPLESS_PREFIXES.has(apiPrefix)) {
    if (parts.length < 3) return base;
    apiGroup = parts[0] as string;
    parts = parts.slice(1);
  }
  const apiVersion = parts[0] as string;
  parts = parts.slice(1);
  let verb: string;
  let legacyWatch = false;
  if (SPECIAL_VERBS.has(parts[0] as string)) {
    // "/api/v1/watch" alone cannot name a resource; upstream errors, which the handler answers 404.
    if (parts.length < 2) return { ...base, isResourceRequest: true, apiPrefix, apiGroup, apiVersion, verb: '' };
    verb = parts[0] as string;
    legacyWatch = verb === 'watch';
    parts = parts.slice(1);
  } else {
    verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] as string;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] as string)) parts = parts.slice(2);
  }
  let subresource = '';
  let name = '';
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(verb)) subresource = parts[2] as string;
  if (parts.length >= 2) name = parts[1] as string;
  const resource = parts[0] ?? '';
  if (name === '' && verb === 'get') {
    verb = watchRequested(query) ? 'watch' : 'list';
    try {
      const fromSelector = requiresExactMatch(parseFieldSelector(query.get('fieldSelector') ?? undefined), 'metadata.name');
      if (fromSelector !== undefined && isValidPathSegmentName(fromSelector)) name = fromSelector;
    } catch {
      // A malformed selector leaves the name unset; the list handler reports the error.
    }
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  return { isResourceRequest: true, path, verb, apiPrefix, apiGroup, apiVersion, namespace, resource, subresource, name, legacyWatch };
}

/** metrics.CleanScope */
export function cleanScope(info: RequestInfo): string {
  if (info.name !== '' || info.verb === 'create') return 'resource';
  if (info.namespace !== '') return 'namespace';
  if (info.isResourceRequest) return 'cluster';
  return '';
}

const CONNECT_SUBRESOURCES = new Set(['proxy', 'attach', 'exec', 'portforward', 'log']);

/** metrics.NormalizedVerb: LIST, WATCH, APPLY and CONNECT told apart from the HTTP method. */
export function normalizedVerb(method: string, info: RequestInfo, query: URLSearchParams, contentType: string | undefined): string {
  let verb = method.toUpperCase();
  const scope = cleanScope(info);
  if ((verb === 'GET' || verb === 'HEAD') && scope !== 'resource' && scope !== '') verb = 'LIST';
  if ((verb === 'GET' || verb === 'LIST') && watchRequested(query)) verb = 'WATCH';
  if (verb === 'PATCH' && contentType === 'application/apply-patch+yaml') verb = 'APPLY';
  if (info.isResourceRequest && CONNECT_SUBRESOURCES.has(info.subresource)) verb = 'CONNECT';
  return verb;
}
