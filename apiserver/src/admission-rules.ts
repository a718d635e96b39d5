import type { KubeObject } from '../../shared/src/index.js';
import { matchesLabelSelectorObject } from './selectors.js';

/**
 * Which webhooks a request must call (admission/plugin/webhook/predicates):
 * rules on operation, group, version, resource/subresource and scope, then
 * namespaceSelector and objectSelector. Pure, so it is table-tested.
 */
export interface RuleRequest {
  readonly operation: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  /** The request is for a Namespace object (whose own labels the namespaceSelector sees). */
  readonly isNamespace: boolean;
}

type Obj = Record<string, unknown>;
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function resourceMatches(patterns: readonly string[], resource: string, subresource: string): boolean {
  return patterns.some((p) => {
    if (p === '*/*') return true;
    const [pr, ps] = p.includes('/') ? (p.split('/', 2) as [string, string]) : [p, undefined];
    if (ps === undefined) return subresource === '' && (pr === '*' || pr === resource);
    return (pr === '*' || pr === resource) && (ps === '*' || ps === subresource);
  });
}

export function ruleMatches(rule: Obj, r: RuleRequest): boolean {
  const ops = list(rule['operations']);
  if (!ops.includes('*') && !ops.includes(r.operation)) return false;
  const groups = list(rule['apiGroups']);
  if (!groups.includes('*') && !groups.includes(r.group)) return false;
  const versions = list(rule['apiVersions']);
  if (!versions.includes('*') && !versions.includes(r.version)) return false;
  if (!resourceMatches(list(rule['resources']), r.resource, r.subresource)) return false;
  const scope = typeof rule['scope'] === 'string' ? rule['scope'] : '*';
  // Namespace objects count as cluster-scoped, as in upstream's scope check.
  const namespaced = r.namespace !== '' && !r.isNamespace;
  if (scope === 'Cluster' && namespaced) return false;
  if (scope === 'Namespaced' && !namespaced) return false;
  return true;
}

export interface SelectorInputs {
  /** Labels of the request's namespace (or of the Namespace object itself). */
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  readonly object: KubeObject | undefined;
  readonly oldObject: KubeObject | undefined;
}

/** The webhook applies to this request: some rule matches and both selectors select it. */
export function webhookApplies(webhook: Obj, r: RuleRequest, s: SelectorInputs): boolean {
  const rules = Array.isArray(webhook['rules']) ? (webhook['rules'] as Obj[]) : [];
  if (!rules.some((rule) => ruleMatches(rule, r))) return false;
  const nsSel = webhook['namespaceSelector'];
  // A namespaceSelector does not apply to cluster-scoped objects other than namespaces.
  if ((r.namespace !== '' || r.isNamespace) && !matchesLabelSelectorObject(nsSel, s.namespaceLabels ?? {})) return false;
  const objSel = webhook['objectSelector'];
  if (objSel && Object.keys(objSel as Obj).length > 0) {
    const matchNew = s.object !== undefined && matchesLabelSelectorObject(objSel, s.object.metadata.labels ?? {});
    const matchOld = s.oldObject !== undefined && matchesLabelSelectorObject(objSel, s.oldObject.metadata.labels ?? {});
    if (!matchNew && !matchOld) return false;
  }
  return true;
}

/** Admission webhooks never see requests for webhook configurations themselves. */
export function exemptFromWebhooks(group: string, resource: string): boolean {
  return group === 'admissionregistration.k8s.io' && (resource === 'mutatingwebhookconfigurations' || resource === 'validatingwebhookconfigurations');
}
