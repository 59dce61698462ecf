const DIGIT_BITS = 16;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
/** Below this size the engine's comparison sort is as fast and needs no 1 MiB of histograms. */
const NATIVE_SORT_BELOW = 2048;

/**
 * LSD radix sort of non-negative finite doubles, carrying `rows` along when given (a stable sort: equal values
 * keep their rows' input order). For x >= 0 the IEEE-754 bit pattern, read as an unsigned 64-bit integer,
 * orders like the value, so four 16-bit digits are exact; digits on which every value agrees (usually the
 * high ones) are skipped. Returns the sorted values and rows, each either the input or a new buffer.
 */
function radixSort(values: Float64Array, rows: Int32Array | null): [Float64Array, Int32Array | null] {
  const n = values.length;
  const histograms = new Uint32Array(4 * BUCKETS);
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  // Little-endian on every platform Node runs on: word 2i is the low half of values[i].
  for (let i = 0; i < n; i++) {
    const low = words[2 * i];
    const high = words[2 * i + 1];
    histograms[low & DIGIT_MASK]++;
    histograms[BUCKETS + (low >>> DIGIT_BITS)]++;
    histograms[2 * BUCKETS + (high & DIGIT_MASK)]++;
    histograms[3 * BUCKETS + (high >>> DIGIT_BITS)]++;
  }
  let source: Float64Array = values;
  let sourceWords: Uint32Array = words;
  let target: Float64Array = new Float64Array(n);
  let targetWords: Uint32Array = new Uint32Array(target.buffer);
  let sourceRows = rows;
  let targetRows: Int32Array | null = rows === null ? null : new Int32Array(n);
  for (let digit = 0; digit < 4; digit++) {
    const offset = digit * BUCKETS;
    const wordIndex = digit >> 1;
    const shift = (digit & 1) * DIGIT_BITS;
    const firstDigit = (sourceWords[wordIndex] >>> shift) & DIGIT_MASK;
    if (histograms[offset + firstDigit] === n) continue;
    let position = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const count = histograms[offset + b];
      histograms[offset + b] = position;
      position += count;
    }
    if (sourceRows === null || targetRows === null) {
      for (let i = 0; i < n; i++) {
        const bucket = (sourceWords[2 * i + wordIndex] >>> shift) & DIGIT_MASK;
        target[histograms[offset + bucket]++] = source[i];
      }
    } else {
      for (let i = 0; i < n; i++) {
        const bucket = (sourceWords[2 * i + wordIndex] >>> shift) & DIGIT_MASK;
        const at = histograms[offset + bucket]++;
        target[at] = source[i];
        targetRows[at] = sourceRows[i];
      }
      [sourceRows, targetRows] = [targetRows, sourceRows];
    }
    [source, target] = [target, source];
    [sourceWords, targetWords] = [targetWords, sourceWords];
  }
  return [source, sourceRows];
}

/**
 * Sorts non-negative finite doubles ascending, in place or into a buffer of the same length, and returns the
 * sorted array (which may be either). About 4 times faster than Float64Array#sort at 100,000 values.
 * -0 must have been normalised to +0 by the caller (its sign bit would sort it last).
 */
export function sortNonNegativeFloat64(values: Float64Array): Float64Array {
  if (values.length < NATIVE_SORT_BELOW) return values.sort();
  return radixSort(values, null)[0];
}

/**
 * `rows` ordered by `keys` ascending (keys[k] belongs to rows[k]; non-negative and finite, -0 normalised),
 * equal keys keeping their input order, with the keys in that order. Both inputs may be reused as scratch;
 * the results may be either.
 */
export function sortRowsByKey(
  keys: Float64Array,
  rows: Int32Array,
): { rows: Int32Array; keys: Float64Array } {
  if (keys.length !== rows.length) {
    throw new RangeError(`keys (${keys.length}) and rows (${rows.length}) differ in length`);
  }
  if (keys.length < NATIVE_SORT_BELOW) {
    const order = Array.from(rows.keys()).sort((a, b) => keys[a] - keys[b] || a - b);
    return { rows: Int32Array.from(order, (k) => rows[k]), keys: Float64Array.from(order, (k) => keys[k]) };
  }
  const [sortedKeys, sortedRows] = radixSort(keys, rows);
  return { rows: sortedRows as Int32Array, keys: sortedKeys };
}
