import { StatusError, statusErrors, type KubeObject } from '../../shared/src/index.js';
import { decodeJson, mediaType, unsupportedMediaType } from './body.js';
import { handlerSpan, type HandlerDeps, type ResourceRequest } from './handler-context.js';
import { checkResourceVersion, ensureNamespace, limitedReadBody, writeOptions } from './handlers-write.js';
import { PatchError, applyJsonPatch, decodeJsonPatch, mergePatch, type Json } from './json-patch.js';
import { parseListOptions } from './list-options.js';
import { negotiateOutput } from './negotiate.js';
import { deleteObject, deleteOptionsFrom } from './registry-delete.js';
import { groupVersion } from './resources.js';
import { serializeObject, writeError } from './serialize.js';
import { strategicMergePatch } from './strategic-merge.js';

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

/** The 422 upstream gives when a JSON patch does not apply (NewGenericServerResponse). */
function patchNotApplicable(message: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: { causes: [{ reason: 'UnexpectedServerResponse', message }] },
    code: 422,
  });
}

/** The patch body parsed for its type: a JSON patch op list, or a merge/strategic patch object. */
function parsePatch(type: string, body: Buffer): (current: Json) => Json {
  if (type === 'application/json-patch+json') {
    let ops;
    try {
      ops = decodeJsonPatch(decodeJson(body));
    } catch (e) {
      throw e instanceof StatusError ? e : statusErrors.badRequest((e as Error).message);
    }
    return (current) => {
      try {
        return applyJsonPatch(current, ops);
      } catch (e) {
        if (e instanceof PatchError) throw patchNotApplicable(e.message);
        throw e;
      }
    };
  }
  const patch = decodeJson(body, type === 'application/merge-patch+json' ? 'error decoding patch: ' : '') as Json;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw statusErrors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  }
  return type === 'application/merge-patch+json' ? (current) => mergePatch(current, patch) : (current) => strategicMergePatch(current, patch);
}

/** PatchResource (handlers/patch.go): the patch is applied inside GuaranteedUpdate to the current object. */
export async function patchResource(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Patch');
  try {
    const type = mediaType(r.ex.header('content-type'));
    if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(PATCH_TYPES);
    const out = negotiateOutput(r.ex.header('accept'), false);
    const body = await limitedReadBody(d, r, span);
    const wo = writeOptions(r, 'PatchOptions');
    const apply = parsePatch(type, body);
    span.addEvent('Recorded the audit event');
    const name = r.info.name;
    const { obj } = await d.registry.update(op, r.res, r.info.namespace, name, r.info.subresource, wo, (current) => {
      if (!current) throw statusErrors.notFound(r.res.resource, name, r.res.group);
      span.addEvent('About to apply patch');
      const patched = apply(current as unknown as Json);
      if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw statusErrors.badRequest('the patched object is not an object');
      let o = patched as unknown as KubeObject;
      o = { ...o, metadata: o.metadata && typeof o.metadata === 'object' ? o.metadata : {} };
      if (o.metadata.name !== name) {
        throw statusErrors.badRequest(`the name of the object (${String(o.metadata.name ?? '')}) does not match the name on the URL (${name})`);
      }
      o = ensureNamespace(r.res, o, r.info.namespace);
      checkResourceVersion(r.res, name, o, current);
      span.addEvent('About to check admission control');
      return o;
    });
    span.addEvent('Object stored in database');
    span.addEvent('About to write a response');
    serializeObject(respond, r.ex, 200, out.mediaType, groupVersion(r.res), obj);
    span.addEvent('Writing http response done');
  } catch (e) {
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}

/** A DELETE body as DeleteOptions: JSON only, and an object, or a Status error as upstream answers. */
function decodeDeleteBody(r: ResourceRequest, body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  const t = mediaType(r.ex.header('content-type'));
  if (t !== 'application/json' && t !== '') throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  const v = decodeJson(body);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw statusErrors.badRequest('decoded object cannot be converted to DeleteOptions');
  return v as Record<string, unknown>;
}

/** DeleteResource (handlers/delete.go): options from the body (or query), then the registry's Delete. */
export async function deleteResource(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Delete');
  try {
    const out = negotiateOutput(r.ex.header('accept'), false);
    const body = await limitedReadBody(d, r, span);
    const raw = decodeDeleteBody(r, body);
    if (raw) {
      span.addEvent('Decoded delete options');
      span.addEvent('Recorded the audit event');
    }
    const options = deleteOptionsFrom(raw, r.ex.query);
    span.addEvent('About to delete object from database');
    const { result } = await deleteObject(d.registry, op, r.res, r.info.namespace, r.info.name, options);
    span.addEvent('Object deleted from database');
    span.addEvent('About to write a response');
    serializeObject(respond, r.ex, 200, out.mediaType, groupVersion(r.res), result);
    span.addEvent('Writing http response done');
  } catch (e) {
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}

/** DeleteCollection: every selected object deleted as a DELETE would; the list of them answered. */
export async function deleteCollection(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Delete');
  try {
    const out = negotiateOutput(r.ex.header('accept'), false);
    const body = await limitedReadBody(d, r, span);
    const options = deleteOptionsFrom(decodeDeleteBody(r, body), r.ex.query);
    const list = await d.registry.list(op, r.res, r.info.namespace, parseListOptions(r.res, r.ex.query, false));
    const deleted: unknown[] = [];
    for (const item of list.items) {
      try {
        const { result } = await deleteObject(d.registry, op, r.res, item.metadata.namespace ?? '', item.metadata.name ?? '', options);
        deleted.push(result);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
    span.addEvent('About to write a response');
    const body2 = { kind: `${r.res.kind}List`, apiVersion: groupVersion(r.res), metadata: { resourceVersion: String(list.resourceVersion) }, items: deleted };
    serializeObject(respond, r.ex, 200, out.mediaType, groupVersion(r.res), body2);
    span.addEvent('Writing http response done');
  } catch (e) {
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}
