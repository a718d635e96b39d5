import type { KubeObject } from '../../shared/src/index.js';

/**
 * --storage-media-type application/json: what goes into etcd is the object's
 * JSON with a trailing newline (Go's json.Encoder), without resourceVersion
 * (APIObjectVersioner.PrepareObjectForStorage clears it; the key's
 * mod_revision is the resourceVersion when read back).
 */
export function encodeForStorage(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, selfLink: _self, ...meta } = obj.metadata;
  return Buffer.from(JSON.stringify({ ...obj, metadata: meta }) + '\n', 'utf8');
}

export class DecodeError extends Error {
  override name = 'DecodeError';
}

export function decodeFromStorage(value: Buffer, rev: number): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (e) {
    throw new DecodeError(`failed to decode stored object: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DecodeError('stored value is not an object');
  const obj = parsed as KubeObject;
  const metadata = obj.metadata && typeof obj.metadata === 'object' ? obj.metadata : {};
  return { ...obj, metadata: { ...metadata, resourceVersion: String(rev) } };
}
