import type { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { goJsonSyntaxError } from './go-json.js';

/** kube-apiserver's --max-request-bytes default for JSON bodies (3 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 3 * 1024 * 1024;

export const ACCEPTED_BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/** limitedReadBody: the whole body, or 413 once it passes `limit`. */
export async function readBody(stream: Readable, contentLength: string | undefined, limit: number): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > limit) {
    stream.resume();
    throw statusErrors.tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > limit) {
      stream.resume();
      throw statusErrors.tooLarge(limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function unsupportedMediaType(accepted: readonly string[]): Error {
  return statusErrors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

const NOT_AN_OBJECT =
  'json: cannot unmarshal %s into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
}

/**
 * Decodes a create/update body (JSON or YAML) into an object, with the
 * serializer's error texts; a protobuf or unknown media type is a 415.
 */
export function decodeObjectBody(contentType: string | undefined, body: Buffer, kind: string): KubeObject {
  const type = mediaType(contentType);
  let value: unknown;
  if (type === 'application/json' || type === '') {
    if (type === '' && body.length > 0) throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
    const text = body.toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      throw statusErrors.badRequest(`couldn't get version/kind; json parse error: ${goJsonSyntaxError(text)}`);
    }
  } else if (type === 'application/yaml') {
    try {
      value = parseYaml(body.toString('utf8'));
    } catch (e) {
      throw statusErrors.badRequest(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
  } else {
    throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw statusErrors.badRequest(`couldn't get version/kind; json parse error: ${NOT_AN_OBJECT.replace('%s', jsonType(value))}`);
  }
  const obj = value as KubeObject;
  const meta = obj.metadata;
  if (meta === undefined || meta === null) obj.metadata = {};
  else if (typeof meta !== 'object' || Array.isArray(meta)) {
    throw statusErrors.badRequest(`json: cannot unmarshal ${jsonType(meta)} into Go struct field ${kind}.metadata of type v1.ObjectMeta`);
  }
  return obj;
}

/** A patch or DeleteOptions body: any JSON value (or YAML for apply), 400 with the Go error when malformed. */
export function decodeJson(body: Buffer, prefix = ''): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw statusErrors.badRequest(`${prefix}${goJsonSyntaxError(text)}`);
  }
}
