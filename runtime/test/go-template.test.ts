import { describe, expect, it } from 'vitest';
import { printValue, renderGoTemplate, TemplateError, truth, type TemplateStruct, type TemplateValue } from '../src/go-template.js';

// Expected outputs are what Go's text/template prints for the same template
// and data (worked out from its documented rules: trim markers eat all
// adjacent spaces, tabs and newlines; maps range in key order; dot is the
// element inside range).

const DATA: TemplateStruct = {
  S: 'overlayfs',
  Empty: '',
  T: true,
  F: false,
  N: 0,
  L: ['x', 'y"z'],
  E: [],
  M: new Map<string, TemplateValue>([
    ['b', { Name: 'bee', Endpoints: ['https://b1', 'https://b2'] }],
    ['a', { Name: 'ay', Endpoints: [] }],
  ]),
  EmptyMap: new Map(),
  Nil: null,
  Nested: { Inner: { Leaf: 'deep' } },
};

const render = (src: string, data: TemplateValue = DATA): string => renderGoTemplate('t', src, data);

describe('Go text/template subset', () => {
  it.each([
    ['plain text', 'version = 2\n', 'version = 2\n'],
    ['a field', 'snapshotter = "{{ .S }}"', 'snapshotter = "overlayfs"'],
    ['a field chain', '{{ .Nested.Inner.Leaf }}', 'deep'],
    ['booleans print as Go does', 'a = {{ .T }}, b = {{ .F }}', 'a = true, b = false'],
    ['left trim eats newlines and spaces', 'x = 1\n\n  {{- .S }}', 'x = 1overlayfs'],
    ['right trim eats what follows', '{{ .S -}}  \n\n y', 'overlayfsy'],
    ['"{{-" without a space is not a trim marker here: {{-3}} is a number', 'a {{-3}}', 'a -3'],
    ['if true', '{{if .T}}yes{{end}}', 'yes'],
    ['if false with else', '{{if .F}}yes{{else}}no{{end}}', 'no'],
    ['empty string, zero, empty slice, empty map and nil are false', '{{if .Empty}}1{{end}}{{if .N}}2{{end}}{{if .E}}3{{end}}{{if .EmptyMap}}4{{end}}{{if .Nil}}5{{end}}.', '.'],
    ['a non-nil struct is true', '{{if .Nested}}yes{{end}}', 'yes'],
    ['eq on strings', '{{ if eq .S "stargz" }}false{{else}}true{{end}}', 'true'],
    ['eq with several candidates', '{{ if eq .S "stargz" "overlayfs" }}hit{{end}}', 'hit'],
    ['ne', '{{ if ne .S "stargz" }}other{{end}}', 'other'],
    ['not', '{{ if not .F }}negated{{end}}', 'negated'],
    ['and / or', '{{ if and .T .S }}a{{end}}{{ if or .F .Empty }}b{{else}}c{{end}}', 'ac'],
    ['else if', '{{if .F}}1{{else if eq .S "overlayfs"}}2{{else}}3{{end}}', '2'],
    ['range over a map in key order with $k, $v', '{{range $k, $v := .M}}{{$k}}={{$v.Name}};{{end}}', 'a=ay;b=bee;'],
    ['dot is the element inside range', '{{range .L}}<{{.}}>{{end}}', '<x><y"z>'],
    ['range with index, if $i and printf %q', '[{{range $i, $j := .L}}{{if $i}}, {{end}}{{printf "%q" .}}{{end}}]', '["x", "y\\"z"]'],
    ['nested range over a variable field', '{{range $k, $v := .M}}{{$k}}:[{{range $i, $e := $v.Endpoints}}{{if $i}},{{end}}{{$e}}{{end}}] {{end}}', 'a:[] b:[https://b1,https://b2] '],
    ['range over an empty slice runs else', '{{range .E}}x{{else}}empty{{end}}', 'empty'],
    ['range over nil runs nothing', '{{range .Nil}}x{{end}}.', '.'],
    ['$ is the root inside range', '{{range .L}}{{$.S}} {{end}}', 'overlayfs overlayfs '],
    ['a missing map key prints <no value>', '{{ .M.zz }}', '<no value>'],
    ['printf %s %d %%', '{{ printf "%s-%d%%" .S 7 }}', 'overlayfs-7%'],
    ['a pipeline feeds the last argument', '{{ .S | printf "%q" }}', '"overlayfs"'],
    ['parentheses', '{{ if not (eq .S "stargz") }}yes{{end}}', 'yes'],
    ['len', '{{ len .L }}', '2'],
    ['comments print nothing', 'a{{/* a comment */}}b', 'ab'],
  ])('%s', (_, src, want) => {
    expect(render(src)).toBe(want);
  });

  it('renders the k3s conditional-block pattern: trimmed ifs leave no blank lines when false', () => {
    const src = 'enable = {{ .T }}\n\n{{- if .F}}\n  disable_cgroup = true\n{{end}}\n{{- if .S }}\n  sandbox_image = "{{ .S }}"\n{{end}}\n\n[next]\n';
    expect(render(src)).toBe('enable = true\n  sandbox_image = "overlayfs"\n\n\n[next]\n');
  });

  it.each([
    ['an if without end', 'a\n{{ if .T }}b', /^template: t:2: unexpected EOF$/],
    ['an end without if', '{{end}}', /^template: t:1: unexpected \{\{end\}\}$/],
    ['an else without if', 'x\n{{else}}', /^template: t:2: unexpected \{\{else\}\}$/],
    ['an unknown function', '{{ frobnicate .S }}', /^template: t:1: function "frobnicate" not defined$/],
    ['an unclosed action', '{{ .S ', /^template: t:1: unclosed action$/],
    ['an unterminated string', '{{ printf "%q }}', /^template: t:1: unterminated quoted string$/],
    ['arguments to a non-function', '{{ .S .T }}', /can't give argument to non-function \.S/],
    ['a missing struct field', 'x {{ .Nope }}', /^template: t:1:5: executing "t" at <\.Nope>: can't evaluate field Nope in type struct$/],
    ['a field of a nil pointer', '{{ .Nil.Mirrors }}', /executing "t" at <\.Nil\.Mirrors>: nil pointer evaluating \.Nil\.Mirrors$/],
    ['comparing a string with a number', '{{ if eq .S 1 }}x{{end}}', /executing "t" at <eq \.S 1>: incompatible types for comparison$/],
    ['an undefined variable', '{{ $nope }}', /undefined variable: \$nope/],
  ])('fails on %s', (_, src, want) => {
    expect(() => render(src)).toThrow(TemplateError);
    expect(() => render(src)).toThrow(want);
  });

  it.each([
    [true, true],
    [false, false],
    ['', false],
    ['x', true],
    [0, false],
    [3, true],
    [[], false],
    [['a'], true],
    [new Map(), false],
    [new Map([['k', 'v']]), true],
    [null, false],
    [undefined, false],
    [{}, true],
  ] as [TemplateValue, boolean][])('truth(%j) is %s', (v, want) => {
    expect(truth(v)).toBe(want);
  });

  it.each([
    ['s', 's'],
    [true, 'true'],
    [1.5, '1.5'],
    [null, '<nil>'],
    [undefined, '<no value>'],
    [['a', 'b'], '[a b]'],
    [new Map([['b', 2], ['a', 1]]), 'map[a:1 b:2]'],
  ] as [TemplateValue, string][])('prints %j as %s', (v, want) => {
    expect(printValue(v)).toBe(want);
  });
});
