import { goQuote } from './go-format.js';

/**
 * The part of Go's text/template that k3s' containerd templates use
 * (pkg/agent/templates): actions `{{ .A.B }}`, `{{ $v.A }}`, `{{ $k }}`;
 * `if` / `else` / `else if` / `end`; `range $k, $v := …` with an optional
 * `else`; the functions eq, ne, not, and, or, len, print and printf (%q %s
 * %v %d %%); parenthesised calls, pipelines with `|`; trim markers `{{- ` and
 * ` -}}`; comments. k3s parses with template.Must, so a parse error is a panic
 * there; executing fails with the Go error text.
 *
 * Values: a plain object is a Go struct (a missing field is an error), a Map
 * is a Go map (keys range in sorted order, a missing key is the zero value),
 * null is a nil pointer or nil map.
 */
export type TemplateValue = string | number | boolean | null | undefined | readonly TemplateValue[] | TemplateStruct | TemplateMap;
export interface TemplateStruct {
  readonly [field: string]: TemplateValue;
}
export type TemplateMap = ReadonlyMap<string, TemplateValue>;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Arg =
  | { kind: 'field'; base: 'dot' | { variable: string }; fields: string[]; text: string }
  | { kind: 'literal'; value: TemplateValue; text: string }
  | { kind: 'call'; fn: string; args: Arg[]; text: string }
  | { kind: 'pipe'; pipe: Pipeline; text: string };
/** A command is a function call or a single operand; the previous command's result is appended to a call's arguments. */
interface Command {
  readonly fn?: string;
  readonly args: Arg[];
}
interface Pipeline {
  readonly decl: string[];
  readonly cmds: Command[];
  readonly text: string;
}
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline; line: number; col: number }
  | { kind: 'if'; pipe: Pipeline; then: Node[]; else: Node[]; line: number; col: number }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[]; line: number; col: number };

const FUNCS = new Set(['eq', 'ne', 'not', 'and', 'or', 'len', 'print', 'printf']);
const SPACE = /[ \t\r\n]/;

interface RawAction {
  readonly body: string;
  readonly line: number;
  /** Byte offset in its line where the body starts (Go reports positions that way). */
  readonly col: number;
}

/** Splits the source into text and action bodies, applying the trim markers. */
function lex(name: string, src: string): (string | RawAction)[] {
  const out: (string | RawAction)[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (pos: number): number => src.slice(0, pos).split('\n').length;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      out.push(text);
      break;
    }
    let start = open + 2;
    // "{{- " trims: the dash must be followed by a space, or "{{-3}}" is a number.
    if (src[start] === '-' && SPACE.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    out.push(text);
    const close = findClose(src, start);
    if (close === UNTERMINATED) throw new TemplateError(`template: ${name}:${lineAt(open)}: unterminated quoted string`);
    if (close < 0) throw new TemplateError(`template: ${name}:${lineAt(open)}: unclosed action`);
    let end = close;
    if (src[close - 1] === '-' && SPACE.test(src[close - 2] ?? '')) {
      trimNext = true;
      end = close - 2;
    }
    const lineStart = src.lastIndexOf('\n', open) + 1;
    out.push({ body: src.slice(start, end), line: lineAt(open), col: start - lineStart });
    i = close + 2;
  }
  return out;
}

const UNTERMINATED = -2;

/** The `}}` that ends an action, skipping quoted strings inside it; -1 if none, UNTERMINATED for an open string. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === '`') {
      const q = c;
      i++;
      while (i < src.length && src[i] !== q) {
        if (q === '"' && src[i] === '\\') i++;
        if (src[i] === '\n' && q === '"') return UNTERMINATED;
        i++;
      }
      if (i >= src.length) return UNTERMINATED;
      i++;
      continue;
    }
    if (c === '}' && src[i + 1] === '}') return i;
    if (src.startsWith('/*', i)) {
      const endComment = src.indexOf('*/', i + 2);
      if (endComment < 0) return -1;
      i = endComment + 2;
      continue;
    }
    i++;
  }
  return -1;
}

type Token = { t: 'word' | 'string' | 'number' | 'field' | 'var' | 'punct'; v: string };

function tokenize(body: string, where: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) throw new TemplateError(`${where}: unterminated quoted string`);
      toks.push({ t: 'string', v: JSON.parse(body.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = body.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError(`${where}: unterminated raw quoted string`);
      toks.push({ t: 'string', v: body.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') {
      toks.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    if (body.startsWith(':=', i) || (c === '=' && body[i + 1] !== '=')) {
      toks.push({ t: 'punct', v: c === ':' ? ':=' : '=' });
      i += c === ':' ? 2 : 1;
      continue;
    }
    const m = /^(\$[A-Za-z0-9_]*|\.?[A-Za-z_][A-Za-z0-9_]*|\.|-?\d+(\.\d+)?)((\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(body.slice(i));
    if (!m) throw new TemplateError(`${where}: unexpected "${c}" in command`);
    const head = m[1] as string;
    const rest = m[3] ?? '';
    if (head.startsWith('$')) toks.push({ t: 'var', v: head + rest });
    else if (head.startsWith('.')) toks.push({ t: 'field', v: head + rest });
    else if (/^-?\d/.test(head)) toks.push({ t: 'number', v: head });
    else toks.push({ t: 'word', v: head + rest });
    i += m[0].length;
  }
  return toks;
}

function parsePipeline(body: string, where: string, allowDecl: boolean): Pipeline {
  const toks = tokenize(body, where);
  let pos = 0;
  const decl: string[] = [];
  const assign = toks.findIndex((t) => t.t === 'punct' && (t.v === ':=' || t.v === '='));
  if (assign >= 0) {
    if (!allowDecl) throw new TemplateError(`${where}: unexpected ":=" in operand`);
    for (let k = 0; k < assign; k++) {
      const tk = toks[k] as Token;
      if (tk.t === 'var') decl.push(tk.v);
      else if (!(tk.t === 'punct' && tk.v === ',')) throw new TemplateError(`${where}: unexpected "${tk.v}" in declaration`);
    }
    if (decl.length === 0 || decl.length > 2) throw new TemplateError(`${where}: too many declarations`);
    pos = assign + 1;
  }
  const parseOperand = (): Arg => {
    const tk = toks[pos++];
    if (!tk) throw new TemplateError(`${where}: missing value for command`);
    switch (tk.t) {
      case 'string':
        return { kind: 'literal', value: tk.v, text: JSON.stringify(tk.v) };
      case 'number':
        return { kind: 'literal', value: Number(tk.v), text: tk.v };
      case 'field': {
        const fields = tk.v === '.' ? [] : tk.v.slice(1).split('.');
        return { kind: 'field', base: 'dot', fields, text: tk.v };
      }
      case 'var': {
        const [variable, ...fields] = tk.v.split('.');
        return { kind: 'field', base: { variable: variable as string }, fields, text: tk.v };
      }
      case 'word': {
        if (tk.v === 'true' || tk.v === 'false') return { kind: 'literal', value: tk.v === 'true', text: tk.v };
        if (tk.v === 'nil') return { kind: 'literal', value: null, text: tk.v };
        if (!FUNCS.has(tk.v)) throw new TemplateError(`${where}: function "${tk.v.split('.')[0]}" not defined`);
        return { kind: 'call', fn: tk.v, args: [], text: tk.v };
      }
      case 'punct':
        if (tk.v === '(') {
          const startTok = pos;
          let depth = 1;
          while (pos < toks.length && depth > 0) {
            const p = toks[pos] as Token;
            if (p.t === 'punct' && p.v === '(') depth++;
            if (p.t === 'punct' && p.v === ')') depth--;
            pos++;
          }
          if (depth !== 0) throw new TemplateError(`${where}: unclosed left paren`);
          const inner = parseCommands(toks.slice(startTok, pos - 1));
          return { kind: 'pipe', pipe: { decl: [], cmds: inner, text: '(…)' }, text: '(…)' };
        }
        throw new TemplateError(`${where}: unexpected "${tk.v}" in operand`);
    }
  };
  const parseCommands = (sub: Token[]): Command[] => {
    const saved = { toks: toks.slice(), pos };
    toks.splice(0, toks.length, ...sub);
    pos = 0;
    const cmds: Command[] = [];
    let args: Arg[] = [];
    const flush = (): void => {
      if (args.length === 0) throw new TemplateError(`${where}: missing command`);
      const first = args[0] as Arg;
      if (first.kind === 'call') cmds.push({ fn: first.fn, args: args.slice(1) });
      else if (args.length > 1) throw new TemplateError(`${where}: can't give argument to non-function ${first.text}`);
      else cmds.push({ args });
      args = [];
    };
    while (pos < toks.length) {
      const tk = toks[pos] as Token;
      if (tk.t === 'punct' && tk.v === '|') {
        pos++;
        flush();
        continue;
      }
      args.push(parseOperand());
    }
    flush();
    toks.splice(0, toks.length, ...saved.toks);
    pos = saved.pos;
    return cmds;
  };
  const cmds = parseCommands(toks.slice(pos));
  return { decl, cmds, text: body.trim() };
}

/** Parses a template into its tree; errors read like Go's `template: NAME:LINE: …`. */
function parse(name: string, src: string): Node[] {
  const items = lex(name, src);
  let k = 0;
  // Returns the nodes up to a closing keyword, and that keyword's action.
  const parseList = (inside: string | undefined): { nodes: Node[]; stop?: { word: string; rest: string; at: RawAction } } => {
    const nodes: Node[] = [];
    while (k < items.length) {
      const item = items[k++] as string | RawAction;
      if (typeof item === 'string') {
        if (item !== '') nodes.push({ kind: 'text', text: item });
        continue;
      }
      const where = `template: ${name}:${item.line}`;
      const body = item.body.trim();
      const lead = item.body.length - item.body.trimStart().length;
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) throw new TemplateError(`${where}: unclosed comment`);
        continue;
      }
      const kw = /^(if|else|end|range|with|define|template|block|break|continue)\b\s*([\s\S]*)$/.exec(body);
      const word = kw?.[1];
      const rest = kw?.[2] ?? '';
      if (word === 'end' || word === 'else') {
        if (inside === undefined) throw new TemplateError(`${where}: unexpected {{${word}}}`);
        return { nodes, stop: { word, rest, at: item } };
      }
      if (word === 'if' || word === 'range') {
        nodes.push(parseControl(word, rest, { ...item, col: item.col + lead + body.length - rest.length }, where));
        continue;
      }
      if (word !== undefined) throw new TemplateError(`${where}: {{${word}}} is not supported by this simulator`);
      if (body === '') throw new TemplateError(`${where}: missing value for command`);
      nodes.push({ kind: 'action', pipe: parsePipeline(body, where, false), line: item.line, col: item.col + lead });
    }
    if (inside !== undefined) throw new TemplateError(`template: ${name}:${src.split('\n').length}: unexpected EOF`);
    return { nodes };
  };
  const parseControl = (word: 'if' | 'range', rest: string, at: RawAction, where: string): Node => {
    if (rest.trim() === '') throw new TemplateError(`${where}: missing value for ${word}`);
    const pipe = parsePipeline(rest, where, word === 'range');
    const body = parseList(word);
    let elseNodes: Node[] = [];
    if (body.stop?.word === 'else') {
      const elseRest = body.stop.rest.trim();
      if (word === 'if' && elseRest.startsWith('if')) {
        // {{else if X}} is an if nested in the else branch that shares its {{end}}.
        elseNodes = [parseControl('if', elseRest.slice(2), body.stop.at, `template: ${name}:${body.stop.at.line}`)];
      } else {
        if (elseRest !== '') throw new TemplateError(`template: ${name}:${body.stop.at.line}: unexpected "${elseRest}" in else`);
        const tail = parseList(word);
        if (tail.stop?.word !== 'end') throw new TemplateError(`template: ${name}:${body.stop.at.line}: expected end; found {{else}}`);
        elseNodes = tail.nodes;
      }
    }
    return word === 'if'
      ? { kind: 'if', pipe, then: body.nodes, else: elseNodes, line: at.line, col: at.col }
      : { kind: 'range', pipe, body: body.nodes, else: elseNodes, line: at.line, col: at.col };
  };
  return parseList(undefined).nodes;
}

/** text/template's truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: TemplateValue): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** How {{ . }} prints a value (fmt.Sprint); a missing map entry prints "<no value>". */
export function printValue(v: TemplateValue): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (v instanceof Map) return `map[${[...v.keys()].sort().map((k) => `${k}:${printValue(v.get(k))}`).join(' ')}]`;
  return `{${Object.values(v as TemplateStruct).map(printValue).join(' ')}}`;
}

function printf(format: string, args: TemplateValue[]): string {
  let n = 0;
  return format.replace(/%([%qsvd])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    if (verb === 'q') return typeof a === 'string' ? goQuote(a) : `%!q(${typeof a})`;
    if (verb === 'd') return typeof a === 'number' && Number.isInteger(a) ? String(a) : `%!d(${printValue(a)})`;
    return printValue(a);
  });
}

function basicKind(v: TemplateValue): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  return typeof v;
}

function call(fn: string, args: TemplateValue[]): TemplateValue {
  switch (fn) {
    case 'not':
      if (args.length !== 1) throw new Error(`wrong number of args for not: want 1 got ${args.length}`);
      return !truth(args[0]);
    case 'and':
      return args.find((a) => !truth(a)) ?? args.at(-1) ?? null;
    case 'or':
      return args.find((a) => truth(a)) ?? args.at(-1) ?? null;
    case 'eq':
    case 'ne': {
      if (args.length < 2) throw new Error('missing argument for comparison');
      const [a, ...rest] = args;
      for (const b of rest) {
        const ka = basicKind(a);
        const kb = basicKind(b);
        if (ka === 'slice' || ka === 'map' || ka === 'object') throw new Error('invalid type for comparison');
        if (ka !== kb) throw new Error('incompatible types for comparison');
      }
      const equal = rest.some((b) => a === b);
      return fn === 'eq' ? equal : !equal;
    }
    case 'len': {
      const a = args[0];
      if (typeof a === 'string' || Array.isArray(a)) return a.length;
      if (a instanceof Map) return a.size;
      throw new Error(`len of ${printValue(a)}`);
    }
    case 'print':
      return args.map(printValue).join('');
    case 'printf': {
      const [format, ...rest] = args;
      if (typeof format !== 'string') throw new Error('wrong type for value; expected string');
      return printf(format, rest);
    }
  }
  throw new Error(`function "${fn}" not defined`);
}

function field(v: TemplateValue, name: string, path: string): TemplateValue {
  if (v instanceof Map) return v.get(name);
  if (v === null) throw new Error(`nil pointer evaluating ${path}`);
  if (v !== undefined && typeof v === 'object' && !Array.isArray(v)) {
    if (!Object.hasOwn(v, name)) throw new Error(`can't evaluate field ${name} in type struct`);
    return (v as TemplateStruct)[name];
  }
  throw new Error(`can't evaluate field ${name} in type ${basicKind(v)}`);
}

interface Scope {
  readonly dot: TemplateValue;
  readonly vars: ReadonlyMap<string, TemplateValue>;
}

function evalArg(arg: Arg, s: Scope, final: TemplateValue[] | undefined): TemplateValue {
  switch (arg.kind) {
    case 'literal':
      return arg.value;
    case 'call':
      return call(arg.fn, final ?? []);
    case 'pipe':
      return evalPipeline(arg.pipe, s);
    case 'field': {
      let v: TemplateValue;
      if (arg.base === 'dot') v = s.dot;
      else {
        if (!s.vars.has(arg.base.variable)) throw new Error(`undefined variable: ${arg.base.variable}`);
        v = s.vars.get(arg.base.variable);
      }
      for (const f of arg.fields) v = field(v, f, arg.text);
      return v;
    }
  }
}

function evalPipeline(p: Pipeline, s: Scope): TemplateValue {
  let prev: TemplateValue[] | undefined;
  let value: TemplateValue = undefined;
  for (const cmd of p.cmds) {
    if (cmd.fn !== undefined) {
      const args = cmd.args.map((a) => evalArg(a, s, undefined));
      value = call(cmd.fn, prev ? [...args, ...prev] : args);
    } else {
      if (prev) throw new Error(`can't give argument to non-function ${(cmd.args[0] as Arg).text}`);
      value = evalArg(cmd.args[0] as Arg, s, undefined);
    }
    prev = [value];
  }
  return value;
}

function exec(name: string, nodes: readonly Node[], s: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') {
      out.push(n.text);
      continue;
    }
    const fail = (e: unknown): never => {
      throw new TemplateError(
        `template: ${name}:${n.line}:${n.col}: executing "${name}" at <${n.pipe.text}>: ${e instanceof Error ? e.message : String(e)}`,
      );
    };
    let v: TemplateValue;
    try {
      v = evalPipeline(n.pipe, s);
    } catch (e) {
      fail(e);
    }
    if (n.kind === 'action') out.push(printValue(v));
    else if (n.kind === 'if') exec(name, truth(v) ? n.then : n.else, s, out);
    else {
      const entries: [TemplateValue, TemplateValue][] =
        v === null || v === undefined
          ? []
          : Array.isArray(v)
            ? v.map((e, i) => [i, e])
            : v instanceof Map
              ? [...v.keys()].sort().map((k) => [k, v.get(k)])
              : fail(`range can't iterate over ${printValue(v)}`);
      if (entries.length === 0) exec(name, n.else, s, out);
      for (const [key, elem] of entries) {
        const vars = new Map(s.vars);
        const [first, second] = n.pipe.decl;
        if (second !== undefined) {
          vars.set(first as string, key);
          vars.set(second, elem);
        } else if (first !== undefined) vars.set(first, elem);
        exec(name, n.body, { dot: elem, vars }, out);
      }
    }
  }
}

/** template.New(name).Parse(src).Execute(data), as a string or a TemplateError. */
export function renderGoTemplate(name: string, src: string, data: TemplateValue): string {
  const tree = parse(name, src);
  const out: string[] = [];
  exec(name, tree, { dot: data, vars: new Map([['$', data]]) }, out);
  return out.join('');
}
