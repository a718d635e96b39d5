import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// One set of loader options for every proto we speak, so no process can decode
// a field differently from its peer. int64 arrives as a string (etcd lease ids
// and OTLP nanosecond times do not fit a double); enums as numbers, because the
// etcd3 package's copy of rpc.proto renames enum values and names would differ
// from upstream's.
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

function findProtoDir(): string {
  // Works from source (shared/src) and from the build (dist/shared/src).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'shared', 'proto');
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, 'proto', 'otlp'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('shared/proto not found');
}

export const PROTO_DIR = findProtoDir();

/** Directory holding etcd's rpc.proto, kv.proto and auth.proto (from the etcd3 npm package). */
export const ETCD_PROTO_DIR = dirname(
  createRequire(import.meta.url).resolve('etcd3/proto/rpc.proto'),
);

const cache = new Map<string, grpc.GrpcObject>();

/** Loads a .proto file given relative to shared/proto, or an absolute path. */
export function loadProto(file: string): grpc.GrpcObject {
  const path = file.startsWith('/') ? file : resolve(PROTO_DIR, file);
  let loaded = cache.get(path);
  if (!loaded) {
    const def = protoLoader.loadSync(path, { ...PROTO_LOADER_OPTIONS, includeDirs: [dirname(path)] });
    loaded = grpc.loadPackageDefinition(def);
    cache.set(path, loaded);
  }
  return loaded;
}

/** Walks a dotted name such as `runtime.v1.RuntimeService` inside a loaded package. */
export function lookupService(pkg: grpc.GrpcObject, dotted: string): grpc.ServiceClientConstructor {
  let node: unknown = pkg;
  for (const part of dotted.split('.')) {
    node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`${dotted} not found in proto`);
  }
  return node as grpc.ServiceClientConstructor;
}

/**
 * A decoded message as proto3 puts it on the wire: the loader's `defaults`
 * option fills in every zero value, which proto3 never encodes, so sizes
 * measured from the decoded object would run larger than Go's.
 */
export function withoutDefaults(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(withoutDefaults);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || v === 0 || v === '0' || v === '' || v === false) continue;
    if ((Buffer.isBuffer(v) || Array.isArray(v)) && v.length === 0) continue;
    out[k] = withoutDefaults(v);
  }
  return out;
}

/** The encoded size of a message, as otelgrpc measures it for `message.uncompressed_size`. */
export function wireSize<T>(serialize: (v: T) => Buffer, value: T): number {
  try {
    return serialize(withoutDefaults(value) as T).length;
  } catch {
    return 0;
  }
}
