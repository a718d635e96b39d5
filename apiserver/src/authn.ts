import type { TLSSocket } from 'node:tls';
import { identityFromSubject } from '../../shared/src/index.js';
import type { Caller } from './registry.js';

/** Who a request without a verified client certificate is, with --anonymous-auth=true. */
export const ANONYMOUS: Caller = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * The x509 authenticator: a client certificate verified against
 * --client-ca-file names the user (CN) and groups (O); the group adder then
 * appends system:authenticated. Anything else is anonymous; with
 * AlwaysAllow authorization that is allowed to do everything.
 */
export function authenticate(socket: TLSSocket | undefined): Caller {
  if (!socket || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return ANONYMOUS;
  // The certificate cannot change within a TLS connection, and an HTTP/2
  // connection carries many requests: decode it once per socket.
  let caller = callers.get(socket);
  if (!caller) {
    const cert = socket.getPeerCertificate();
    const id = cert?.subject ? identityFromSubject(cert.subject as { CN?: string | string[]; O?: string | string[] }) : undefined;
    caller = !id || id.user === '' ? ANONYMOUS : { username: id.user, groups: [...id.groups, 'system:authenticated'] };
    callers.set(socket, caller);
  }
  return caller;
}

const callers = new WeakMap<TLSSocket, Caller>();
