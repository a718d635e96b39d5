/**
 * resource.Quantity strings (`100m`, `0.5`, `128Mi`, `1G`, `1e3`) as numbers.
 * The scheduler compares requests with allocatable and the kubelet derives
 * QoS classes and allocatable from them; both work in millicores for CPU and
 * bytes for everything else, as the scheduler's framework.Resource does.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/;

/** The value of a quantity, or undefined when it does not parse (apimachinery's ParseQuantity grammar). */
export function parseQuantity(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  const m = QUANTITY.exec(raw.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * (BINARY[m[2]] as number);
  if (m[3]) return n * 10 ** Number(m[3].slice(1));
  return n * (DECIMAL[m[4] ?? ''] as number);
}

/** CPU in millicores, rounded up as Quantity.MilliValue does. */
export function milliCpu(raw: string | number | undefined): number {
  const v = parseQuantity(raw);
  return v === undefined ? 0 : Math.ceil(Math.round(v * 1e9) / 1e6);
}

/** Memory, storage or a count, in whole units (Quantity.Value rounds up). */
export function quantityValue(raw: string | number | undefined): number {
  const v = parseQuantity(raw);
  return v === undefined ? 0 : Math.ceil(v - 1e-9);
}

/** `1500m` → "1500m", 2000 → "2": CPU the way the apiserver prints a canonical Quantity. */
export function formatMilliCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes in the largest binary suffix that divides them exactly, as Quantity prints BinarySI values. */
export function formatBytes(bytes: number): string {
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const unit = BINARY[suffix] as number;
    if (bytes !== 0 && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
