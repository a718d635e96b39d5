import { RESOURCES, groupVersion } from './resources.js';
import { schemaName } from './openapi.js';

/**
 * GET /openapi/v2: a minimal Swagger 2.0 document, as JSON or as the gnostic
 * openapi_v2.Document protobuf kubectl asks for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`). kubectl
 * 1.27 fails `apply` and `create` without it (its validator loads the v2
 * document first). Paths carry the x-kubernetes-group-version-kind extension
 * and the fieldValidation parameter; there are no definitions, so kubectl
 * builds patches from its compiled-in types, as it does for built-in kinds.
 */
type Obj = Record<string, unknown>;

interface Param {
  readonly name: string;
  readonly in: 'query' | 'path' | 'body';
  readonly description: string;
  readonly required?: boolean;
  readonly ref?: string;
}

interface Operation {
  readonly operationId: string;
  readonly parameters: readonly Param[];
  readonly action: string;
  readonly gvk: { group: string; version: string; kind: string };
}

interface PathItem {
  readonly path: string;
  readonly ops: Readonly<Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch', Operation>>>;
  readonly parameters: readonly Param[];
}

const Q = (name: string, description: string): Param => ({ name, in: 'query', description });
const WRITE = [
  Q('dryRun', 'When present, indicates that modifications should not be persisted.'),
  Q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  Q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.'),
];

function paths(): PathItem[] {
  const out: PathItem[] = [];
  for (const r of RESOURCES) {
    const gv = groupVersion(r);
    const prefix = gv === 'v1' ? '/api/v1' : `/apis/${gv}`;
    const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const id = (verb: string): string => `${verb}${r.group === '' ? 'Core' : ''}${r.version.toUpperCase()}${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
    const body: Param = { name: 'body', in: 'body', description: '', required: true, ref: `#/definitions/${schemaName(r)}` };
    const ns: Param[] = r.namespaced ? [{ name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true }] : [];
    out.push({
      path: collection,
      ops: {
        get: { operationId: id('list'), parameters: [], action: 'list', gvk },
        post: { operationId: id('create'), parameters: [body, ...WRITE], action: 'post', gvk },
      },
      parameters: ns,
    });
    out.push({
      path: `${collection}/{name}`,
      ops: {
        get: { operationId: id('read'), parameters: [], action: 'get', gvk },
        put: { operationId: id('replace'), parameters: [body, ...WRITE], action: 'put', gvk },
        delete: { operationId: id('delete'), parameters: [], action: 'delete', gvk },
        patch: { operationId: id('patch'), parameters: [...WRITE, Q('force', 'Force is going to "force" Apply requests.')], action: 'patch', gvk },
      },
      parameters: [{ name: 'name', in: 'path', description: `name of the ${r.kind}`, required: true }, ...ns],
    });
  }
  return out;
}

function jsonParam(p: Param): Obj {
  if (p.in === 'body') return { name: p.name, in: 'body', required: true, schema: { $ref: p.ref } };
  return { uniqueItems: true, type: 'string', description: p.description, name: p.name, in: p.in, ...(p.required ? { required: true } : {}) };
}

/** The document as Swagger 2.0 JSON. */
export function openapiV2Json(version: string): Obj {
  const out: Obj = {};
  for (const item of paths()) {
    const v: Obj = {};
    for (const [method, op] of Object.entries(item.ops)) {
      v[method] = {
        consumes: ['*/*'],
        produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
        schemes: ['https'],
        operationId: op.operationId,
        parameters: op.parameters.map(jsonParam),
        responses: { '200': { description: 'OK' }, '401': { description: 'Unauthorized' } },
        'x-kubernetes-action': op.action,
        'x-kubernetes-group-version-kind': op.gvk,
      };
    }
    v['parameters'] = item.parameters.map(jsonParam);
    out[item.path] = v;
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths: out };
}

/** Protobuf wire format, the few field kinds openapi_v2.Document needs. */
class Pb {
  private readonly parts: Buffer[] = [];

  private static varint(n: number): Buffer {
    const bytes: number[] = [];
    let v = n;
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    return Buffer.from(bytes);
  }

  private key(field: number, wire: number): void {
    this.parts.push(Pb.varint(field * 8 + wire));
  }

  string(field: number, s: string): this {
    if (s === '') return this;
    const b = Buffer.from(s, 'utf8');
    this.key(field, 2);
    this.parts.push(Pb.varint(b.length), b);
    return this;
  }

  bool(field: number, v: boolean): this {
    if (!v) return this;
    this.key(field, 0);
    this.parts.push(Buffer.from([1]));
    return this;
  }

  message(field: number, m: Pb): this {
    const b = m.bytes();
    this.key(field, 2);
    this.parts.push(Pb.varint(b.length), b);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** gnostic stores vendor extensions as NamedAny{name, Any{yaml}}. */
function namedAny(name: string, yaml: string): Pb {
  return new Pb().string(1, name).message(2, new Pb().string(2, yaml));
}

function yamlString(s: string): string {
  return s === '' ? '""\n' : `${s}\n`;
}

function pbParam(p: Param): Pb {
  if (p.in === 'body') {
    // BodyParameter{name 2, in 3, required 4, schema 5{_ref 1}}
    const bp = new Pb().string(2, p.name).string(3, 'body').bool(4, true).message(5, new Pb().string(1, p.ref ?? ''));
    return new Pb().message(1, new Pb().message(1, bp));
  }
  // Query: QueryParameterSubSchema{required 1, in 2, description 3, name 4, type 6, unique_items 20};
  // path: PathParameterSubSchema{required 1, in 2, description 3, name 4, type 5, unique_items 19}.
  const sub =
    p.in === 'query'
      ? new Pb().bool(1, p.required ?? false).string(2, 'query').string(3, p.description).string(4, p.name).string(6, 'string').bool(20, true)
      : new Pb().bool(1, p.required ?? false).string(2, 'path').string(3, p.description).string(4, p.name).string(5, 'string').bool(19, true);
  const nonBody = new Pb().message(p.in === 'query' ? 3 : 4, sub);
  // ParametersItem{parameter 1: Parameter{non_body_parameter 2}}
  return new Pb().message(1, new Pb().message(2, nonBody));
}

const OP_FIELDS = { get: 2, put: 3, post: 4, delete: 5, patch: 8 } as const;

function pbOperation(op: Operation): Pb {
  const m = new Pb();
  m.string(5, op.operationId);
  for (const c of ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']) m.string(6, c);
  m.string(7, '*/*');
  for (const p of op.parameters) m.message(8, pbParam(p));
  // Responses{response_code 1: NamedResponseValue{name, ResponseValue{response 1: Response{description 1}}}}
  const responses = new Pb();
  for (const [code, d] of [['200', 'OK'], ['401', 'Unauthorized']] as const) {
    responses.message(1, new Pb().string(1, code).message(2, new Pb().message(1, new Pb().string(1, d))));
  }
  m.message(9, responses);
  m.string(10, 'https');
  m.message(13, namedAny('x-kubernetes-action', `${op.action}\n`));
  const gvk = `group: ${yamlString(op.gvk.group)}kind: ${yamlString(op.gvk.kind)}version: ${yamlString(op.gvk.version)}`;
  m.message(13, namedAny('x-kubernetes-group-version-kind', gvk));
  return m;
}

/** The document as openapi_v2.Document protobuf bytes. */
export function openapiV2Protobuf(version: string): Buffer {
  const doc = new Pb().string(1, '2.0').message(2, new Pb().string(1, 'Kubernetes').string(2, version));
  const ps = new Pb();
  for (const item of paths()) {
    const v = new Pb();
    for (const [method, op] of Object.entries(item.ops) as [keyof typeof OP_FIELDS, Operation][]) v.message(OP_FIELDS[method], pbOperation(op));
    for (const p of item.parameters) v.message(9, pbParam(p));
    ps.message(2, new Pb().string(1, item.path).message(2, v));
  }
  doc.message(8, ps);
  return doc.bytes();
}

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** Which form the Accept header asks for; kube-openapi still accepts the older `@v1.0` spelling. */
export function wantsOpenapiV2Protobuf(accept: string | undefined): boolean {
  return /application\/com\.github\.proto-openapi\.spec\.v2(?:@|\.)v1\.0\+protobuf/.test(accept ?? '');
}
