import type { Span } from '@opentelemetry/api';
import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { ACCEPTED_BODY_TYPES, decodeObjectBody, mediaType, readBody, unsupportedMediaType } from './body.js';
import { handlerSpan, type HandlerDeps, type ResourceRequest } from './handler-context.js';
import { negotiateOutput } from './negotiate.js';
import { bindPod } from './pod-binding.js';
import type { WriteOptions } from './registry.js';
import { groupVersion, type ResourceInfo } from './resources.js';
import { serializeObject, writeError } from './serialize.js';

/** Reads the body under the handler span, with upstream's limitedReadBody events. */
export async function limitedReadBody(d: HandlerDeps, r: ResourceRequest, span: Span): Promise<Buffer> {
  try {
    const body = await readBody(r.ex.body, r.ex.header('content-length'), d.maxRequestBytes);
    r.ex.bytesRead = body.length;
    span.addEvent('limitedReadBody succeeded', { len: body.length });
    return body;
  } catch (e) {
    span.addEvent('limitedReadBody failed', { len: 0, err: (e as Error).message });
    throw e;
  }
}

/** CreateOptions / UpdateOptions from the query, validated as ValidateCreateOptions does. */
export function writeOptions(r: ResourceRequest, kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteOptions {
  const q = r.ex.query;
  const dryRun = q.getAll('dryRun');
  for (const v of dryRun) {
    if (v !== 'All') {
      throw statusErrors.invalid(kind, '', [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${v}": supported values: "All"`, field: 'dryRun' }], 'meta.k8s.io');
    }
  }
  const fv = q.get('fieldValidation');
  if (fv !== null && fv !== '' && !['Ignore', 'Warn', 'Strict'].includes(fv)) {
    throw statusErrors.invalid(kind, '', [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${fv}": supported values: "Ignore", "Warn", "Strict"`, field: 'fieldValidation' }], 'meta.k8s.io');
  }
  const options: Record<string, unknown> = { kind, apiVersion: 'meta.k8s.io/v1' };
  if (dryRun.length > 0) options['dryRun'] = dryRun;
  const fm = q.get('fieldManager');
  if (fm) options['fieldManager'] = fm;
  if (fv) options['fieldValidation'] = fv;
  return { dryRun: dryRun.length > 0, options };
}

/** The body decoded as this resource's kind: apiVersion and kind must match what the URL serves. */
export function decodeFor(res: { group: string; version: string; kind: string }, contentType: string | undefined, body: Buffer): KubeObject {
  const t = mediaType(contentType);
  if (t !== 'application/json' && t !== 'application/yaml') throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
  const obj = decodeObjectBody(contentType, body, res.kind);
  const gv = groupVersion(res);
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw statusErrors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
  }
  if (obj.kind !== undefined && obj.kind !== res.kind) {
    throw statusErrors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${res.kind})`);
  }
  return obj;
}

/** rest.EnsureObjectNamespaceMatchesRequestNamespace */
export function ensureNamespace(res: ResourceInfo, obj: KubeObject, namespace: string): KubeObject {
  const want = res.namespaced ? namespace : '';
  const have = obj.metadata.namespace ?? '';
  if (have === want) return obj;
  if (have === '' || want === '') return { ...obj, metadata: { ...obj.metadata, namespace: want === '' ? undefined : want } };
  throw statusErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

/** createHandler (handlers/create.go), also for pods/binding. */
export async function createResource(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Create');
  let stored = false;
  let len = 0;
  try {
    const out = negotiateOutput(r.ex.header('accept'), false);
    const binding = r.info.subresource === 'binding';
    const kind = binding ? { group: '', version: 'v1', kind: 'Binding' } : r.res;
    const ct = r.ex.header('content-type');
    if (mediaType(ct) !== 'application/json' && mediaType(ct) !== 'application/yaml') throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
    const body = await limitedReadBody(d, r, span);
    len = body.length;
    const wo = writeOptions(r, 'CreateOptions');
    span.addEvent('About to convert to expected version');
    let obj = decodeFor(kind, ct, body);
    span.addEvent('Conversion done');
    const namespace = r.res.resource === 'namespaces' ? '' : r.info.namespace;
    obj = ensureNamespace(r.res, obj, namespace);
    span.addEvent('About to store object in database');
    stored = true;
    const result = binding
      ? await bindPod(d.registry, op, r.info.namespace, r.info.name, obj, wo)
      : await d.registry.create(op, r.res, namespace, obj, wo);
    span.addEvent('Write to database call succeeded', { len });
    span.addEvent('About to write a response');
    serializeObject(respond, r.ex, 201, out.mediaType, groupVersion(r.res), result);
    span.addEvent('Writing http response done');
  } catch (e) {
    if (stored) span.addEvent('Write to database call failed', { len, err: (e as Error).message });
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}

/** Store.Update's optimistic lock: a resourceVersion in the body must be the stored one. */
export function checkResourceVersion(res: ResourceInfo, name: string, obj: KubeObject, current: KubeObject): void {
  const rv = obj.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) {
    throw statusErrors.conflict(res.resource, name, res.group);
  }
}

/** UpdateResource (handlers/update.go): PUT of an object or its status. */
export async function updateResource(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Update');
  let stored = false;
  let len = 0;
  try {
    const out = negotiateOutput(r.ex.header('accept'), false);
    const ct = r.ex.header('content-type');
    if (mediaType(ct) !== 'application/json' && mediaType(ct) !== 'application/yaml') throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
    const body = await limitedReadBody(d, r, span);
    len = body.length;
    const wo = writeOptions(r, 'UpdateOptions');
    span.addEvent('About to convert to expected version');
    let obj = decodeFor(r.res, ct, body);
    span.addEvent('Conversion done');
    const name = r.info.name;
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw statusErrors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj = ensureNamespace(r.res, { ...obj, metadata: { ...obj.metadata, name } }, r.info.namespace);
    span.addEvent('About to store object in database');
    stored = true;
    const { obj: result, created } = await d.registry.update(op, r.res, r.info.namespace, name, r.info.subresource, wo, (current) => {
      if (current) checkResourceVersion(r.res, name, obj, current);
      return obj;
    });
    span.addEvent('Write to database call succeeded', { len });
    span.addEvent('About to write a response');
    serializeObject(respond, r.ex, created ? 201 : 200, out.mediaType, groupVersion(r.res), result);
    span.addEvent('Writing http response done');
  } catch (e) {
    if (stored) span.addEvent('Write to database call failed', { len, err: (e as Error).message });
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}
