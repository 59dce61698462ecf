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
    if (Array.isArray(object)) {
      return `[${object.map((item) => serialise(item, ancestors) ?? 'null').join(',')}]`;
    }
    const record = object as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as §3.2.3 requires.
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = serialise(record[key], ancestors);
      if (member !== undefined) members.push(`${quote(key)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
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
