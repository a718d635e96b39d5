import type { Node, Pod } from '../../shared/src/index.js';
import { allocatable, EMPTY_USAGE, podRequests, type NodeUsage, type Requests } from './resources.js';

/**
 * kube-scheduler's default profile for one pod, as pure functions: the
 * filter plugins in their order (NodeUnschedulable, TaintToleration,
 * NodeAffinity, NodeResourcesFit), scoring by NodeResourcesFit
 * (LeastAllocated) plus NodeResourcesBalancedAllocation, and a random choice
 * among the best nodes (selectHost). Failures come back as the FitError
 * message kube-scheduler puts in the FailedScheduling event.
 */

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}

interface SelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

/** A filter's verdict on one node: undefined passes; otherwise the reasons and whether preemption could help. */
export interface FilterFailure {
  readonly reasons: readonly string[];
  readonly resolvable: boolean;
}

export type PickResult =
  | { readonly node: string; readonly score: number; readonly feasible: number }
  | { readonly node?: undefined; readonly message: string; readonly reasons: Readonly<Record<string, number>> };

/** The taint the node lifecycle controller puts on a node that is not Ready (the simulation has no such controller). */
export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function tolerations(pod: Pod): Toleration[] {
  return (pod.spec['tolerations'] as Toleration[] | undefined) ?? [];
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

function nodeTaints(node: Node): Taint[] {
  const taints = ((node.spec?.taints ?? []) as unknown as Taint[]).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (!isReady(node) && !taints.some((t) => t.key === NOT_READY_TAINT.key)) taints.push(NOT_READY_TAINT);
  return taints;
}

function matchRequirement(labels: Readonly<Record<string, string>>, r: SelectorRequirement): boolean {
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(v);
      const bound = Number(values[0]);
      if (v === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution: terms ORed, expressions ANDed. */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const affinity = pod.spec['affinity'] as
    | { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: SelectorRequirement[]; matchFields?: SelectorRequirement[] }> } } }
    | undefined;
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  const fields = { 'metadata.name': node.metadata.name ?? '' };
  return terms.some(
    (t) =>
      (t.matchExpressions?.length ?? 0) + (t.matchFields?.length ?? 0) > 0 &&
      (t.matchExpressions ?? []).every((r) => matchRequirement(labels, r)) &&
      (t.matchFields ?? []).every((r) => matchRequirement(fields, r)),
  );
}

/** The filter plugins in kube-scheduler's order; the first that fails decides the node's reasons. */
export function filterNode(pod: Pod, req: Requests, node: Node, usage: NodeUsage): FilterFailure | undefined {
  const tols = tolerations(pod);
  if (node.spec?.unschedulable && !tols.some((t) => tolerates(t, UNSCHEDULABLE_TAINT))) {
    return { reasons: ['node(s) were unschedulable'], resolvable: false };
  }
  const untolerated = nodeTaints(node).find((taint) => !tols.some((t) => tolerates(t, taint)));
  if (untolerated) return { reasons: [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`], resolvable: false };
  if (!matchesNodeAffinity(pod, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  const alloc = allocatable(node);
  const reasons: string[] = [];
  if (usage.pods + 1 > alloc.pods) reasons.push('Too many pods');
  if (req.cpu > 0 && req.cpu > alloc.cpu - usage.cpu) reasons.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - usage.memory) reasons.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - usage.ephemeralStorage) {
    reasons.push('Insufficient ephemeral-storage');
  }
  return reasons.length > 0 ? { reasons, resolvable: true } : undefined;
}

const MAX_SCORE = 100;

/** LeastAllocated over cpu and memory (weight 1 each) plus BalancedAllocation, both on the non-zero requests. */
export function scoreNode(req: Requests, node: Node, usage: NodeUsage): number {
  const alloc = allocatable(node);
  const fraction = (used: number, capacity: number): number => (capacity <= 0 ? 1 : Math.min(1, used / capacity));
  const cpu = fraction(usage.nonzeroCpu + req.nonzeroCpu, alloc.cpu);
  const mem = fraction(usage.nonzeroMemory + req.nonzeroMemory, alloc.memory);
  const least = Math.floor(((1 - cpu) * MAX_SCORE + (1 - mem) * MAX_SCORE) / 2);
  const balanced = Math.floor((1 - Math.abs(cpu - mem) / 2) * MAX_SCORE);
  return least + balanced;
}

/** FitError.Error(): reasons counted over nodes, sorted as strings, then the preemption post-filter's summary. */
export function fitErrorMessage(total: number, failures: readonly FilterFailure[]): string {
  const histogram = new Map<string, number>();
  for (const f of failures) for (const r of f.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
  const reasons = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  const resolvable = failures.filter((f) => f.resolvable).length;
  const preemption = [
    ...(resolvable > 0 ? [`${resolvable} No preemption victims found for incoming pod`] : []),
    ...(failures.length - resolvable > 0 ? [`${failures.length - resolvable} Preemption is not helpful for scheduling`] : []),
  ].sort();
  return `0/${total} nodes are available: ${reasons.join(', ')}. preemption: 0/${total} nodes are available: ${preemption.join(', ')}.`;
}

/**
 * Where `pod` goes: the best-scoring feasible node, ties broken by `random`
 * (seeded by the caller, so a run can be replayed), or why none fits.
 */
export function pickNode(
  pod: Pod,
  nodes: readonly Node[],
  podsByNode: ReadonlyMap<string, NodeUsage>,
  random: () => number = () => 0,
): PickResult {
  if (nodes.length === 0) return { message: 'no nodes available to schedule pods', reasons: {} };
  const req = podRequests(pod);
  const failures: FilterFailure[] = [];
  let best: string | undefined;
  let bestScore = -1;
  let ties = 0;
  let feasible = 0;
  for (const node of [...nodes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const name = node.metadata.name ?? '';
    const usage = podsByNode.get(name) ?? EMPTY_USAGE;
    const failure = filterNode(pod, req, node, usage);
    if (failure) {
      failures.push(failure);
      continue;
    }
    feasible++;
    const score = scoreNode(req, node, usage);
    if (score > bestScore) {
      best = name;
      bestScore = score;
      ties = 1;
    } else if (score === bestScore) {
      // Reservoir sampling over equal scores, as selectHost does (random() = 0 keeps the first).
      ties++;
      if (Math.floor(random() * ties) === ties - 1) best = name;
    }
  }
  if (best !== undefined) return { node: best, score: bestScore, feasible };
  const reasons: Record<string, number> = {};
  for (const f of failures) for (const r of f.reasons) reasons[r] = (reasons[r] ?? 0) + 1;
  return { message: fitErrorMessage(nodes.length, failures), reasons };
}
