/** The Kubernetes identity in a verified client certificate: CN is the user, O values the groups. */
export function identityFromSubject(subject: { CN?: string | string[]; O?: string | string[] } | undefined): {
  user: string;
  groups: string[];
} {
  const cn = subject?.CN;
  const o = subject?.O;
  return {
    user: Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? ''),
    groups: o === undefined ? [] : Array.isArray(o) ? o : [o],
  };
}
