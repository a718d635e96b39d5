import { describe, expect, it } from 'vitest';
import { exemptFromWebhooks, ruleMatches, webhookApplies, type RuleRequest } from '../src/admission-rules.js';
import { openapiV2Json, openapiV2Protobuf, wantsOpenapiV2Protobuf } from '../src/openapi-v2.js';
import { PROFILES, PROFILE_1_35 } from '../src/profile.js';
import { aggregatedDiscovery, apiGroupList, resourceList, wantsAggregated } from '../src/discovery.js';
import { goJsonSyntaxError } from '../src/go-json.js';
import { decodeContinue, encodeContinue, parseListOptions } from '../src/list-options.js';
import { negotiateOutput } from '../src/negotiate.js';
import { openapiDocument, openapiIndex } from '../src/openapi.js';
import { parseRequestInfo } from '../src/request-info.js';
import { findResource, resourceByName } from '../src/resources.js';
import { pickRoute } from '../src/routes.js';

const KUBECTL_TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const KUBECTL_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('routes', () => {
  const route = (method: string, path: string, query = ''): string => {
    const i = parseRequestInfo(method, path, new URLSearchParams(query));
    const r = pickRoute(findResource(i.apiGroup, i.apiVersion, i.resource), i);
    return r.kind;
  };
  it.each([
    ['POST', '/api/v1/namespaces/default/pods', 'handler'],
    ['GET', '/api/v1/pods', 'handler'],
    ['POST', '/api/v1/pods', 'not-allowed'],
    ['GET', '/api/v1/pods/x', 'not-found'],
    ['PUT', '/api/v1/namespaces/default/pods', 'not-allowed'],
    ['POST', '/api/v1/namespaces/default/pods/x', 'not-allowed'],
    ['POST', '/api/v1/namespaces/default/pods/x/binding', 'handler'],
    ['GET', '/api/v1/namespaces/default/pods/x/binding', 'not-allowed'],
    ['GET', '/api/v1/namespaces/default/pods/x/log', 'not-found'],
    ['PATCH', '/api/v1/namespaces/default/pods/x/status', 'handler'],
    ['GET', '/api/v1/namespaces/default/nodes', 'not-found'],
    ['GET', '/api/v1/widgets', 'not-found'],
    ['DELETE', '/api/v1/namespaces', 'not-allowed'],
    ['DELETE', '/api/v1/namespaces/default/pods', 'handler'],
    ['GET', '/api/v1/namespaces/default', 'handler'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', 'handler'],
    ['GET', '/apis/apps/v1/namespaces/default/deployments', 'not-found'],
  ])('%s %s → %s', (method, path, want) => {
    expect(route(method, path)).toBe(want);
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, { kind: 'object', mediaType: 'application/json' }],
    ['*/*', { kind: 'object', mediaType: 'application/json' }],
    ['application/json, */*;q=0.8', { kind: 'object', mediaType: 'application/json' }],
    ['application/vnd.kubernetes.protobuf,application/json', { kind: 'object', mediaType: 'application/json' }],
    ['application/yaml', { kind: 'object', mediaType: 'application/yaml' }],
    [KUBECTL_TABLE, { kind: 'table', version: 'v1', mediaType: 'application/json;as=Table;v=v1;g=meta.k8s.io' }],
    ['application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', { kind: 'partial', version: 'v1' }],
  ])('%s', (accept, want) => {
    expect(negotiateOutput(accept, true)).toMatchObject(want);
  });

  it('Table is only offered where conversions are; protobuf alone is not acceptable', () => {
    expect(negotiateOutput(KUBECTL_TABLE, false)).toEqual({ kind: 'object', mediaType: 'application/json' });
    expect(() => negotiateOutput('application/vnd.kubernetes.protobuf', true)).toThrow('only the following media types are accepted');
  });
});

describe('discovery and openapi', () => {
  it.each([
    // kubectl 1.27 asks for v2beta1 only; 1.32 for v2 then v2beta1.
    ['1.27' as const, 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', 'v2beta1'],
    ['1.27' as const, KUBECTL_DISCOVERY, 'v2beta1'],
    ['1.27' as const, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', undefined],
    ['1.35' as const, 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', 'v2beta1'],
    ['1.35' as const, KUBECTL_DISCOVERY, 'v2'],
  ])('%s: %s → %s', (version, accept, want) => {
    expect(wantsAggregated(accept, PROFILES[version].aggregatedDiscovery)).toBe(want);
  });
  it('aggregated discovery is chosen by kubectl 1.32 Accept, plain JSON otherwise', () => {
    expect(wantsAggregated(KUBECTL_DISCOVERY, PROFILE_1_35.aggregatedDiscovery)).toBe('v2');
    expect(wantsAggregated('application/json', PROFILE_1_35.aggregatedDiscovery)).toBeUndefined();
    const core = aggregatedDiscovery('api', 'v2') as { items: { versions: { resources: { resource: string; shortNames?: string[] }[] }[] }[] };
    expect(core.items[0]?.versions[0]?.resources.map((r) => `${r.resource}:${(r.shortNames ?? []).join('')}`)).toEqual(['pods:po', 'nodes:no', 'namespaces:ns', 'events:ev']);
    expect((apiGroupList()['groups'] as { name: string }[]).map((g) => g.name)).toEqual(['coordination.k8s.io', 'admissionregistration.k8s.io']);
  });

  it('/api/v1 lists resources and subresources', () => {
    const list = resourceList('v1') as { resources: { name: string; kind: string; verbs: string[] }[] };
    expect(list.resources.find((r) => r.name === 'pods/binding')).toMatchObject({ kind: 'Binding', verbs: ['create'] });
    expect(list.resources.find((r) => r.name === 'pods')?.verbs).toEqual(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    expect(resourceList('apps/v1')).toBeUndefined();
  });

  it('openapi v3: the patch operation carries the GVK and fieldValidation', () => {
    const index = openapiIndex('v1.32.4') as { paths: Record<string, { serverRelativeURL: string }> };
    expect(index.paths['api/v1']?.serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const doc = openapiDocument('v1', 'v1.32.4') as { paths: Record<string, Record<string, { 'x-kubernetes-group-version-kind'?: unknown; parameters?: { name: string }[] }>> };
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.['patch'];
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(patch?.parameters?.map((p) => p.name)).toContain('fieldValidation');
  });
});

describe('admission rules', () => {
  const create: RuleRequest = { operation: 'CREATE', group: '', version: 'v1', resource: 'pods', subresource: '', namespace: 'default', isNamespace: false };
  const rule = { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' };
  it.each([
    [rule, create, true],
    [{ ...rule, operations: ['UPDATE'] }, create, false],
    [{ ...rule, operations: ['*'] }, create, true],
    [{ ...rule, resources: ['*'] }, create, true],
    [{ ...rule, resources: ['pods'] }, { ...create, subresource: 'binding' }, false],
    [{ ...rule, resources: ['pods/*'] }, { ...create, subresource: 'binding' }, true],
    [{ ...rule, resources: ['*/status'] }, { ...create, subresource: 'status' }, true],
    [{ ...rule, scope: 'Cluster' }, create, false],
    [{ ...rule, scope: 'Namespaced', resources: ['namespaces'] }, { ...create, resource: 'namespaces', isNamespace: true }, false],
    [{ ...rule, apiGroups: ['apps'] }, create, false],
  ])('%j on %j → %s', (r, req, want) => {
    expect(ruleMatches(r, req)).toBe(want);
  });

  it('selectors: namespace labels and object labels', () => {
    const hook = { rules: [rule], namespaceSelector: { matchLabels: { team: 'a' } }, objectSelector: { matchLabels: { app: 'web' } } };
    const obj = { metadata: { labels: { app: 'web' } } };
    expect(webhookApplies(hook, create, { namespaceLabels: { team: 'a' }, object: obj, oldObject: undefined })).toBe(true);
    expect(webhookApplies(hook, create, { namespaceLabels: { team: 'b' }, object: obj, oldObject: undefined })).toBe(false);
    expect(webhookApplies(hook, create, { namespaceLabels: { team: 'a' }, object: { metadata: {} }, oldObject: undefined })).toBe(false);
    expect(exemptFromWebhooks('admissionregistration.k8s.io', 'mutatingwebhookconfigurations')).toBe(true);
  });
});

describe('list options, continue tokens, Go JSON errors', () => {
  it('continue tokens are base64url JSON relative to the prefix and round-trip', () => {
    const token = encodeContinue('/registry/pods/default/b\u0000', '/registry/pods/default/', 42);
    expect(JSON.parse(Buffer.from(token, 'base64url').toString())).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'b\u0000' });
    expect(decodeContinue(token, '/registry/pods/default/')).toEqual({ fromKey: '/registry/pods/default/b\u0000', rv: 42 });
    expect(() => decodeContinue('!!', '/registry/pods/')).toThrow('invalid continue token: continue key is not valid');
    const escape = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '../secrets/x' })).toString('base64url');
    expect(() => decodeContinue(escape, '/registry/pods/')).toThrow('invalid continue token');
  });

  it.each([
    ['resourceVersionMatch=Exact', 'resourceVersionMatch is forbidden unless resourceVersion is provided'],
    ['resourceVersion=1&resourceVersionMatch=Sometimes', 'Unsupported value: "Sometimes"'],
    ['fieldSelector=spec.foo%3Dx', 'field label not supported: spec.foo'],
    ['labelSelector=a%20b', 'unable to parse requirement'],
    ['limit=ten', 'strconv.ParseInt: parsing "ten": invalid syntax'],
  ])('%s → %s', (q, message) => {
    expect(() => parseListOptions(resourceByName('pods'), new URLSearchParams(q), false)).toThrow(message);
  });

  it.each([
    ['{"a":', 'unexpected end of JSON input'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":1} x', "invalid character 'x' after top-level value"],
    ['nul', 'unexpected end of JSON input'],
    ['tru3', "invalid character '3' in literal true (expecting 'e')"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ["'x'", "invalid character '\\'' looking for beginning of value"],
  ])('Go says %j → %s', (text, want) => {
    expect(goJsonSyntaxError(text)).toBe(want);
  });

  /** Protobuf wire format into field number → raw values (varints as numbers, length-delimited as Buffers). */
  const fields = (b: Buffer): Map<number, (number | Buffer)[]> => {
    const out = new Map<number, (number | Buffer)[]>();
    let i = 0;
    const varint = (): number => {
      let v = 0;
      let mul = 1;
      for (;;) {
        const byte = b[i++] as number;
        v += (byte & 0x7f) * mul;
        mul *= 128;
        if (byte < 0x80) return v;
      }
    };
    while (i < b.length) {
      const key = varint();
      let value: number | Buffer;
      if (key % 8 === 2) {
        const len = varint();
        value = b.subarray(i, i + len);
        i += len;
      } else value = varint();
      const f = Math.floor(key / 8);
      out.set(f, [...(out.get(f) ?? []), value]);
    }
    return out;
  };
  const msg = (b: Buffer | number | undefined): Map<number, (number | Buffer)[]> => fields(b as Buffer);
  const str = (b: Buffer | number | undefined): string => (b as Buffer).toString('utf8');

  it('openapi v2 protobuf: the gnostic Document kubectl 1.27 loads, with the pods patch operation carrying the GVK and fieldValidation', () => {
    expect(wantsOpenapiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).toBe(true);
    expect(wantsOpenapiV2Protobuf('application/json')).toBe(false);
    const doc = msg(openapiV2Protobuf('v1.27.16'));
    expect(str(doc.get(1)?.[0])).toBe('2.0');
    expect(str(msg(doc.get(2)?.[0]).get(2)?.[0])).toBe('v1.27.16');
    const named = (msg(doc.get(8)?.[0]).get(2) ?? []).map((p) => msg(p));
    const pods = named.find((p) => str(p.get(1)?.[0]) === '/api/v1/namespaces/{namespace}/pods/{name}');
    expect(pods).toBeDefined();
    const patch = msg(msg(pods?.get(2)?.[0]).get(8)?.[0]);
    expect(str(patch.get(5)?.[0])).toBe('patchCoreV1NamespacedPod');
    const ext = (patch.get(13) ?? []).map((e) => msg(e)).map((e) => [str(e.get(1)?.[0]), str(msg(e.get(2)?.[0]).get(2)?.[0])]);
    expect(ext).toContainEqual(['x-kubernetes-group-version-kind', 'group: ""\nkind: Pod\nversion: v1\n']);
    const queryNames = (patch.get(8) ?? []).map((item) => {
      const nonBody = msg(msg(msg(item).get(1)?.[0]).get(2)?.[0]);
      return str(msg(nonBody.get(3)?.[0]).get(4)?.[0]);
    });
    expect(queryNames).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'force']);
    const json = openapiV2Json('v1.27.16') as { paths: Record<string, { patch?: { parameters: { name: string }[] } }> };
    expect(json.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.patch?.parameters.map((x) => x.name)).toEqual(queryNames);
  });
});
