import * as grpc from '@grpc/grpc-js';
import { loadProto, lookupService } from '../../shared/src/index.js';

/** A promise-returning runtime.v1 client for tests, as kubelet or crictl would dial the socket. */
export interface CriClient {
  runtime(method: string, req: object, metadata?: grpc.Metadata): Promise<any>;
  image(method: string, req: object, metadata?: grpc.Metadata): Promise<any>;
  close(): void;
}

export function criClient(address: string): CriClient {
  const pkg = loadProto('cri/api.proto');
  const target = address.startsWith('/') ? `unix:${address}` : address;
  const RuntimeService = lookupService(pkg, 'runtime.v1.RuntimeService');
  const ImageService = lookupService(pkg, 'runtime.v1.ImageService');
  const rs = new RuntimeService(target, grpc.credentials.createInsecure());
  const is = new ImageService(target, grpc.credentials.createInsecure());
  const call = (client: grpc.Client, method: string, req: object, md = new grpc.Metadata()): Promise<any> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method];
      if (!fn) return reject(new Error(`no method ${method}`));
      fn.call(client, req, md, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
    });
  return {
    runtime: (m, r, md) => call(rs, m, r, md),
    image: (m, r, md) => call(is, m, r, md),
    close: () => {
      rs.close();
      is.close();
    },
  };
}

/** The error a call failed with, or a failure if it succeeded. */
export async function callError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

export function sandboxConfig(name: string, uid: string, extra: object = {}) {
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory: `/var/log/pods/default_${name}_${uid}`,
    labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default', app: name },
    ...extra,
  };
}

export function containerConfig(name: string, image: string, extra: object = {}) {
  return { metadata: { name, attempt: 0 }, image: { image }, logPath: `${name}/0.log`, labels: { 'io.kubernetes.container.name': name }, ...extra };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
