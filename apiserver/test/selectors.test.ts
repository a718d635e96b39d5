import { describe, expect, it } from 'vitest';
import {
  SelectorError,
  matchesFields,
  matchesLabelSelectorObject,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  requiresExactMatch,
} from '../src/selectors.js';

const labels = { app: 'web', tier: 'front', version: '3' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db)', true],
    ['missing notin (db)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['version>2', true],
    ['version<2', false],
    ['app in (web, db),!missing', true],
  ])('%j matches: %s', (raw, want) => {
    expect(matchesLabels(parseLabelSelector(raw), labels)).toBe(want);
  });

  it.each(['app=', 'a b', 'app in web', '=web', 'x,,y', 'bad key=1'])('%j is rejected', (raw) => {
    if (raw === 'app=') {
      // An empty value is a valid label value.
      expect(parseLabelSelector(raw)).toEqual([{ key: 'app', op: '=', values: [''] }]);
      return;
    }
    expect(() => parseLabelSelector(raw)).toThrow(SelectorError);
  });

  it('metav1.LabelSelector objects (webhook selectors)', () => {
    expect(matchesLabelSelectorObject(undefined, labels)).toBe(true);
    expect(matchesLabelSelectorObject({}, labels)).toBe(true);
    expect(matchesLabelSelectorObject({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(matchesLabelSelectorObject({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(matchesLabelSelectorObject({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels)).toBe(true);
  });
});

describe('field selectors', () => {
  const fields = { 'metadata.name': 'a', 'spec.nodeName': 'n1', 'status.phase': 'Running' };
  it.each([
    ['metadata.name=a', true],
    ['metadata.name==a', true],
    ['metadata.name!=a', false],
    ['spec.nodeName=n1,status.phase=Running', true],
    ['spec.nodeName=', false],
    ['spec.nodeName!=', true],
  ])('%j matches: %s', (raw, want) => {
    expect(matchesFields(parseFieldSelector(raw), fields)).toBe(want);
  });

  it('escaped commas stay in the value; exact matches are found', () => {
    const sel = parseFieldSelector('involvedObject.name=a\\,b,metadata.namespace=default');
    expect(sel[0]).toEqual({ field: 'involvedObject.name', op: '=', value: 'a,b' });
    expect(requiresExactMatch(sel, 'metadata.namespace')).toBe('default');
    expect(requiresExactMatch(sel, 'metadata.name')).toBeUndefined();
  });

  it('a term without an operator is an error', () => {
    expect(() => parseFieldSelector('spec.nodeName')).toThrow("invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'");
  });
});
