/**
 * Pod IPs the way CNI's host-local IPAM hands them out: from the pod CIDR,
 * skipping the network address, the gateway (.1) and the broadcast address,
 * round-robin after the last address given out, so a freed IP is not reused
 * at once.
 */
export interface PodCidr {
  readonly base: number;
  readonly bits: number;
}

export const DEFAULT_POD_CIDR = '10.244.0.0/16';

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): PodCidr | undefined {
  const [ip, bitsText] = cidr.split('/');
  const addr = ip === undefined ? undefined : ipToInt(ip);
  const bits = Number(bitsText);
  if (addr === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (addr & mask) >>> 0, bits };
}

/** The next free address after `last` (or from the start), or undefined when the range is full. */
export function allocateIp(cidr: PodCidr, inUse: ReadonlySet<string>, last: string | undefined): string | undefined {
  const size = 2 ** (32 - cidr.bits);
  const first = 2; // .0 is the network, .1 the bridge gateway
  const count = size - 3; // and the last one the broadcast
  const lastInt = last === undefined ? undefined : ipToInt(last);
  const lastOffset = lastInt === undefined ? first - 1 : lastInt - cidr.base;
  for (let i = 1; i <= count; i++) {
    const offset = first + ((lastOffset - first + i) % count + count) % count;
    const ip = intToIp(cidr.base + offset);
    if (!inUse.has(ip)) return ip;
  }
  return undefined;
}

/** NamespaceMode NODE (2) for the network: the pod shares the node's network, gets no IP and no CNI call. */
export function isHostNetwork(config: { linux?: { securityContext?: { namespaceOptions?: { network?: number } | null } | null } | null } | null | undefined): boolean {
  return config?.linux?.securityContext?.namespaceOptions?.network === 2;
}
