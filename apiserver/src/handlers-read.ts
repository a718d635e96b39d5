import { statusErrors } from '../../shared/src/index.js';
import { handlerSpan, renderOutput, type HandlerDeps, type ResourceRequest } from './handler-context.js';
import { parseListOptions } from './list-options.js';
import { includeObject, negotiateOutput } from './negotiate.js';
import { groupVersion } from './resources.js';
import { serializeObject, writeError } from './serialize.js';
import { serveWatch } from './watch-handler.js';

/**
 * getResourceHandler (handlers/get.go): `Get` span, events around the
 * storage read and the response write.
 */
export async function getResource(d: HandlerDeps, r: ResourceRequest): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'Get');
  try {
    const out = negotiateOutput(r.ex.header('accept'), true);
    const include = includeObject(r.ex.query);
    if (r.ex.query.getAll('export').some((v) => v !== 'false' && v !== '0')) {
      throw statusErrors.badRequest('the export parameter, deprecated since v1.14, is no longer supported');
    }
    const rv = r.ex.query.get('resourceVersion') ?? '';
    if (rv !== '' && !/^\d+$/.test(rv)) throw statusErrors.badRequest(`invalid resource version: ${rv}`);
    span.addEvent('About to Get from storage');
    const obj = await d.registry.get(op, r.res, r.info.namespace, r.info.name, rv);
    span.addEvent('About to write a response');
    const o = renderOutput(r.res, out, include, { object: obj });
    serializeObject(respond, r.ex, 200, o.mediaType, o.gv, o.body);
    span.addEvent('Writing http response done');
  } catch (e) {
    writeError(respond, r.ex, e, groupVersion(r.res), d.log);
  } finally {
    span.end();
  }
}

/**
 * ListResource (handlers/get.go): list or watch. The `List` span is only
 * ended on the list path after storage was asked, exactly where upstream
 * defers End: early errors and watches leave it unended, so it is never
 * exported.
 */
export async function listResource(d: HandlerDeps, r: ResourceRequest, forceWatch: boolean): Promise<void> {
  const { span, op, out: respond } = handlerSpan(r, 'List');
  const gv = groupVersion(r.res);
  let opts;
  let out;
  let include;
  try {
    opts = parseListOptions(r.res, r.ex.query, forceWatch);
    out = negotiateOutput(r.ex.header('accept'), true);
    include = includeObject(r.ex.query);
    if (r.info.name !== '' && opts.field.some((f) => f.field === 'metadata.name' && f.value !== r.info.name)) {
      throw statusErrors.badRequest("fieldSelector metadata.name doesn't match requested name");
    }
    // A watch of one object (legacy path) selects it by name, as upstream rewrites it.
    if (r.info.name !== '' && !opts.field.some((f) => f.field === 'metadata.name')) {
      opts = { ...opts, field: [...opts.field, { field: 'metadata.name', op: '=' as const, value: r.info.name }] };
    }
  } catch (e) {
    writeError(respond, r.ex, e, gv, d.log);
    return;
  }
  if (opts.watch) {
    await serveWatch(d, r, op, opts, out, include);
    return;
  }
  try {
    span.addEvent('About to List from storage');
    const list = await d.registry.list(op, r.res, r.info.namespace, opts);
    span.addEvent('Listing from storage done');
    const o = renderOutput(r.res, out, include, { list });
    serializeObject(respond, r.ex, 200, o.mediaType, o.gv, o.body);
    span.addEvent('Writing http response done', { count: list.items.length });
  } catch (e) {
    writeError(respond, r.ex, e, gv, d.log);
  } finally {
    span.end();
  }
}
