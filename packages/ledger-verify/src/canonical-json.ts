/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). Written here rather than taken from a package because the
 * hash chain depends on every byte of it, and an auditor must be able to read the whole rule set in one file.
 *
 * Beyond the RFC, values are handled the way JSON.stringify handles them, so that what is hashed is what a
 * plain JSON round trip stores: `toJSON()` is honoured (Dates become ISO strings), object members whose value
 * is undefined, a function or a symbol are omitted, and such values inside arrays become null.
 * Rejected with a TypeError: non-finite numbers, bigints, cycles, lone surrogates (not I-JSON), and an
 * unserialisable top-level value.
 */
export function canonicalize(value: unknown): string {
  const out = serialise(value, new Set());
  if (out === undefined) throw new TypeError(`JCS: cannot serialise a top-level ${typeof value}`);
  return out;
}

function serialise(input: unknown, ancestors: Set<object>): string | undefined {
  const value = withToJson(input);
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`JCS: ${value} is not a JSON number`);
      // ECMAScript Number::toString is exactly the number format RFC 8785 §3.2.2.3 prescribes; -0 gives "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('JCS: bigint has no JSON representation; convert it to a string first');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.has(object)) throw new TypeError('JCS: cyclic structure');
  ancestors.add(object);
  try {
    // Built by concatenation rather than arrays joined: every event is canonicalised on the request thread.
    if (Array.isArray(object)) {
      let out = '[';
      for (let i = 0; i < object.length; i++) {
        if (i > 0) out += ',';
        out += serialise(object[i], ancestors) ?? 'null';
      }
      return out + ']';
    }
    const record = object as Record<string, unknown>;
    let out = '{';
    for (const key of sortedKeys(record)) {
      const member = serialise(record[key], ancestors);
      if (member === undefined) continue;
      if (out.length > 1) out += ',';
      out += quote(key) + ':' + member;
    }
    return out + '}';
  } finally {
    ancestors.delete(object);
  }
}

/**
 * §3.2.3: member names ordered by their UTF-16 code units, which is how `<` and Array.prototype.sort
 * without a comparator compare strings. Objects of a few members (every event's) are sorted in place by
 * insertion, which allocates nothing; larger ones by sort().
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function withToJson(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return (value as { toJSON(key: string): unknown }).toJSON('');
  }
  return value;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** §3.2.2.2: only `"`, `\` and U+0000..U+001F are escaped; everything else is written as itself. */
function quote(text: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new TypeError(`JCS: lone surrogate U+${unit.toString(16).toUpperCase()} is not I-JSON`);
    }
    if (unit >= 0x20 && unit !== 0x22 && unit !== 0x5c) continue;
    out += text.slice(runStart, i) + (SHORT_ESCAPES[unit] ?? `\\u${unit.toString(16).padStart(4, '0')}`);
    runStart = i + 1;
  }
  return `${out}${text.slice(runStart)}"`;
}
