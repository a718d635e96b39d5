/**
 * encoding/json's syntax error text for a document JSON.parse rejected, so a
 * malformed body gets the message kube-apiserver gives ("invalid character
 * 'x' looking for beginning of value", "unexpected end of JSON input").
 * A small scanner following Go's scanner states; only called on failure.
 */
const quoteChar = (c: string): string => (c === "'" ? "'\\''" : c === '"' ? `'"'` : `'${c}'`);

export function goJsonSyntaxError(text: string): string {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const fail = (context: string): never => {
    throw new Error(i >= n ? 'unexpected end of JSON input' : `invalid character ${quoteChar(text[i] as string)} ${context}`);
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (i >= n) fail('');
      if (text[i] !== ch) fail(`in literal ${word} (expecting ${quoteChar(ch)})`);
      i++;
    }
  };
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= n) fail('');
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail('in string literal');
      if (c === '\\') {
        i++;
        if (i >= n) fail('');
        if (!'"\\/bfnrtu'.includes(text[i] as string)) fail('in string escape code');
      }
      i++;
    }
  };
  const number = (): void => {
    if (text[i] === '-') i++;
    if (i >= n) fail('');
    if (!/[0-9]/.test(text[i] as string)) fail('in numeric literal');
    while (i < n && /[0-9]/.test(text[i] as string)) i++;
    if (text[i] === '.') {
      i++;
      if (i >= n || !/[0-9]/.test(text[i] as string)) fail('after decimal point in numeric literal');
      while (i < n && /[0-9]/.test(text[i] as string)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (i >= n || !/[0-9]/.test(text[i] as string)) fail('in exponent of numeric literal');
      while (i < n && /[0-9]/.test(text[i] as string)) i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) fail('');
    const c = text[i] as string;
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        string();
        ws();
        if (text[i] !== ':') fail('after object key');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('after array element');
      }
    }
    if (c === '"') return string();
    if (c === '-' || /[0-9]/.test(c)) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    fail('looking for beginning of value');
  };
  try {
    value();
    ws();
    if (i < n) fail('after top-level value');
    return 'unexpected end of JSON input';
  } catch (e) {
    return (e as Error).message;
  }
}
