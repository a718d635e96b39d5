import type { Status, StatusCause } from './types.js';

/**
 * The closed set of failures the apiserver reports, each with the HTTP code
 * kube-apiserver uses (k8s.io/apimachinery/pkg/api/errors).
 */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export function codeForReason(reason: StatusReason): number {
  switch (reason) {
    case 'BadRequest':
      return 400;
    case 'Unauthorized':
      return 401;
    case 'Forbidden':
      return 403;
    case 'NotFound':
      return 404;
    case 'MethodNotAllowed':
      return 405;
    case 'NotAcceptable':
      return 406;
    case 'AlreadyExists':
    case 'Conflict':
      return 409;
    case 'Gone':
    case 'Expired':
      return 410;
    case 'RequestEntityTooLarge':
      return 413;
    case 'UnsupportedMediaType':
      return 415;
    case 'Invalid':
      return 422;
    case 'TooManyRequests':
      return 429;
    case 'InternalError':
      return 500;
    case 'ServiceUnavailable':
      return 503;
    case 'Timeout':
      return 504;
    default: {
      const never: never = reason;
      throw new Error(`unknown reason ${String(never)}`);
    }
  }
}

/** An apiserver error; `status` is the exact body sent to (or received from) the wire. */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'StatusError';
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

function failure(reason: StatusReason, message: string, details?: Status['details'], code = codeForReason(reason)): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `pods` or `leases.coordination.k8s.io`, as apimachinery prints a GroupResource. */
export function groupResource(resource: string, group = ''): string {
  return group === '' ? resource : `${resource}.${group}`;
}

const named = (resource: string, group: string, name: string): Status['details'] => ({
  name,
  ...(group === '' ? {} : { group }),
  kind: resource,
});

export const statusErrors = {
  notFound: (resource: string, name: string, group = '') =>
    failure('NotFound', `${groupResource(resource, group)} "${name}" not found`, named(resource, group, name)),
  /** A path the apiserver serves nothing at. */
  noSuchResource: () => failure('NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (resource: string, name: string, group = '') =>
    failure('AlreadyExists', `${groupResource(resource, group)} "${name}" already exists`, named(resource, group, name)),
  conflict: (resource: string, name: string, group = '', why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    failure('Conflict', `Operation cannot be fulfilled on ${groupResource(resource, group)} "${name}": ${why}`, named(resource, group, name)),
  invalid: (kind: string, name: string, causes: readonly StatusCause[], group = '') => {
    const parts = causes.map((c) => `${c.field}: ${c.message}`);
    const msg = parts.length === 1 ? (parts[0] as string) : `[${parts.join(', ')}]`;
    return failure('Invalid', `${kind}${group === '' ? '' : `.${group}`} "${name}" is invalid: ${msg}`, {
      name,
      ...(group === '' ? {} : { group }),
      kind,
      causes: [...causes],
    });
  },
  badRequest: (message: string) => failure('BadRequest', message),
  methodNotAllowed: () => failure('MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  tooLarge: (limit: number) => failure('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  unsupportedMediaType: (message: string) => failure('UnsupportedMediaType', message),
  notAcceptable: (message: string) => failure('NotAcceptable', message),
  forbidden: (message: string, details?: Status['details'], code = 403) => failure('Forbidden', message, details, code),
  unauthorized: () => failure('Unauthorized', 'Unauthorized'),
  gone: (message: string) => failure('Expired', message),
  internal: (message: string) => failure('InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  unavailable: (message: string) => failure('ServiceUnavailable', message),
  timeout: (message: string) => failure('Timeout', message),
};

/** Reads a Status out of an error response body; anything else becomes a Status with the HTTP code. */
export function statusFromResponse(code: number, body: string): StatusError {
  try {
    const parsed = JSON.parse(body) as Partial<Status>;
    if (parsed && parsed.kind === 'Status') return new StatusError({ ...(parsed as Status), code: parsed.code ?? code });
  } catch {
    // not JSON: fall through
  }
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: body.trim() || `the server responded with HTTP ${code}`,
    code,
  });
}

export const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof StatusError && e.reason === 'AlreadyExists';
