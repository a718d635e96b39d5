import { randomUUID } from 'node:crypto';
import { StatusError, statusErrors, type KubeObject, type Status } from '../../shared/src/index.js';
import { exemptFromWebhooks, webhookApplies, type RuleRequest } from './admission-rules.js';
import { PatchError, applyJsonPatch, decodeJsonPatch, type Json } from './json-patch.js';
import type { ResourceInfo } from './resources.js';
import { admissionSpan } from './spans.js';
import { inSpan, type RequestTrace } from './trace-context.js';
import type { ClientConfig, WebhookClient } from './webhook-client.js';

/** Everything a webhook is told about one request (admission.Attributes). */
export interface AdmissionAttributes {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly info: ResourceInfo;
  readonly subresource: string;
  /** The kind of the request body: Pod, or Binding for pods/binding. */
  readonly kind: { group: string; version: string; kind: string };
  readonly namespace: string;
  readonly name: string;
  readonly object: KubeObject | undefined;
  readonly oldObject: KubeObject | undefined;
  readonly options: Record<string, unknown>;
  readonly dryRun: boolean;
  readonly user: { username: string; groups: readonly string[] };
}

type Obj = Record<string, unknown>;

/** A call that failed before a verdict: failurePolicy decides (webhookutil.ErrCallingWebhook). */
class CallingWebhookError extends Error {
  constructor(webhook: string, reason: string) {
    super(`failed calling webhook "${webhook}": ${reason}`);
  }
}

/** webhookerrors.ToStatusErr: a denial carries the webhook's status, never below 400. */
export function denialStatus(webhook: string, result: Partial<Status> | undefined): StatusError {
  const r = result ?? {};
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const message = r.message ? `${deniedBy}: ${r.message}` : r.reason ? `${deniedBy}: ${r.reason}` : `${deniedBy} without explanation`;
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.details ? { details: r.details } : {}),
    code: typeof r.code === 'number' && r.code >= 400 ? r.code : 400,
  });
}

/**
 * The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins:
 * webhooks from the configurations in the watch cache, AdmissionReview v1
 * over the webhook client, JSONPatch responses applied, failurePolicy.
 */
export class Admission {
  constructor(
    private readonly client: WebhookClient,
    private readonly configurations: (kind: 'mutating' | 'validating') => readonly KubeObject[],
    private readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined,
  ) {}

  private hooks(kind: 'mutating' | 'validating', a: AdmissionAttributes): { config: string; hook: Obj }[] {
    if (exemptFromWebhooks(a.info.group, a.info.resource)) return [];
    const isNamespace = a.info.group === '' && a.info.resource === 'namespaces';
    const r: RuleRequest = {
      operation: a.operation,
      group: a.info.group,
      version: a.info.version,
      resource: a.info.resource,
      subresource: a.subresource,
      namespace: a.info.namespaced ? a.namespace : '',
      isNamespace,
    };
    const nsLabels = isNamespace ? (a.object ?? a.oldObject)?.metadata.labels : this.namespaceLabels(a.namespace);
    const out: { config: string; hook: Obj }[] = [];
    const configs = [...this.configurations(kind)].sort((x, y) => String(x.metadata.name).localeCompare(String(y.metadata.name)));
    for (const c of configs) {
      for (const h of (Array.isArray(c['webhooks']) ? c['webhooks'] : []) as Obj[]) {
        if (webhookApplies(h, r, { namespaceLabels: nsLabels, object: a.object, oldObject: a.oldObject })) out.push({ config: String(c.metadata.name), hook: h });
      }
    }
    return out;
  }

  /** Runs the mutating webhooks in order; resolves with the (possibly patched) object. */
  async mutate(rt: RequestTrace, a: AdmissionAttributes, redefault: (o: KubeObject) => KubeObject): Promise<KubeObject | undefined> {
    let attrs = a;
    const hooks = this.hooks('mutating', a);
    const reinvocable: { config: string; hook: Obj }[] = [];
    let changedSinceReinvocable = false;
    const run = async (h: { config: string; hook: Obj }): Promise<void> => {
      const out = await this.call(rt, 'mutating', h.config, h.hook, attrs);
      if (out.patched) {
        attrs = { ...attrs, object: redefault(out.patched) };
        if (reinvocable.length > 0) changedSinceReinvocable = true;
      }
    };
    for (const h of hooks) {
      await run(h);
      if (h.hook['reinvocationPolicy'] === 'IfNeeded') {
        reinvocable.push(h);
        changedSinceReinvocable = false;
      }
    }
    if (changedSinceReinvocable) for (const h of reinvocable) await run(h);
    return attrs.object;
  }

  /** Runs the validating webhooks in parallel, as upstream does; the first denial or failure wins. */
  async validate(rt: RequestTrace, a: AdmissionAttributes): Promise<void> {
    const results = await Promise.allSettled(this.hooks('validating', a).map((h) => this.call(rt, 'validating', h.config, h.hook, a)));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  private async call(rt: RequestTrace, kind: 'mutating' | 'validating', config: string, hook: Obj, a: AdmissionAttributes): Promise<{ patched?: KubeObject }> {
    const name = String(hook['name']);
    const ignore = hook['failurePolicy'] === 'Ignore';
    const timeoutSeconds = typeof hook['timeoutSeconds'] === 'number' ? hook['timeoutSeconds'] : 10;
    if (a.dryRun && hook['sideEffects'] !== 'None' && hook['sideEffects'] !== 'NoneOnDryRun') {
      throw statusErrors.badRequest(`admission webhook "${name}" does not support dry run`);
    }
    const uid = randomUUID();
    const span = admissionSpan(kind, {
      configuration: config,
      webhook: name,
      group: a.info.group,
      version: a.info.version,
      resource: a.info.resource,
      subresource: a.subresource,
      operation: a.operation,
      uid,
    });
    try {
      return await inSpan(rt, span.name, span.attributes, async (s, inner) => {
        const target = this.client.resolve((hook['clientConfig'] ?? {}) as ClientConfig, timeoutSeconds);
        let response: unknown;
        try {
          response = await this.client.post(inner, target, JSON.stringify(admissionReview(uid, a)), timeoutSeconds);
        } catch (e) {
          throw new CallingWebhookError(name, `failed to call webhook: ${(e as Error).message}`);
        }
        s.addEvent('Request completed');
        const res = verifyResponse(name, uid, kind === 'mutating', response);
        if (res['allowed'] !== true) throw denialStatus(name, res['status'] as Partial<Status> | undefined);
        if (kind === 'validating' || typeof res['patch'] !== 'string' || res['patch'] === '') return {};
        if (!a.object) throw statusErrors.internal(`admission webhook "${name}" attempted to modify the object, which is not supported for this operation`);
        let patched: Json;
        try {
          const ops = decodeJsonPatch(JSON.parse(Buffer.from(res['patch'], 'base64').toString('utf8')));
          if (ops.length === 0) return {};
          patched = applyJsonPatch(a.object as unknown as Json, ops);
        } catch (e) {
          if (e instanceof PatchError) throw statusErrors.internal(e.message);
          throw new CallingWebhookError(name, `received undecodable patch in webhook response: ${(e as Error).message}`);
        }
        s.addEvent('Patch applied');
        return { patched: patched as unknown as KubeObject };
      });
    } catch (e) {
      if (e instanceof CallingWebhookError) {
        if (ignore) return {};
        throw statusErrors.internal(e.message);
      }
      throw e;
    }
  }
}

function verifyResponse(name: string, uid: string, mutating: boolean, review: unknown): Obj {
  const invalid = (why: string): never => {
    throw new CallingWebhookError(name, `received invalid webhook response: ${why}`);
  };
  const r = (review ?? {}) as Obj;
  const res = r['response'] as Obj | undefined;
  if (!res) return invalid('webhook response was absent');
  if (res['uid'] !== uid) invalid(`expected response.uid="${uid}", got "${String(res['uid'] ?? '')}"`);
  if (r['apiVersion'] !== 'admission.k8s.io/v1' || r['kind'] !== 'AdmissionReview') {
    invalid(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${String(r['apiVersion'] ?? '')}, Kind=${String(r['kind'] ?? '')}`);
  }
  const hasPatch = typeof res['patch'] === 'string' && res['patch'] !== '';
  if (mutating) {
    if (hasPatch && res['patchType'] === undefined) invalid('webhook returned response.patch but not response.patchType');
    if (!hasPatch && res['patchType'] !== undefined) invalid('webhook returned response.patchType but not response.patch');
    if (hasPatch && res['patchType'] !== 'JSONPatch') invalid(`unsupported patch type "${String(res['patchType'])}"`);
  } else if (hasPatch || res['patchType'] !== undefined) {
    invalid(hasPatch ? 'validating webhook may not return response.patch' : 'validating webhook may not return response.patchType');
  }
  return res;
}

/** The AdmissionReview v1 request (webhook/request/admissionreview.go). */
export function admissionReview(uid: string, a: AdmissionAttributes): Obj {
  const resource = { group: a.info.group, version: a.info.version, resource: a.info.resource };
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: a.kind,
      resource,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: a.kind,
      requestResource: resource,
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      name: a.name,
      ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: { username: a.user.username, groups: a.user.groups },
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: a.options,
    },
  };
}
