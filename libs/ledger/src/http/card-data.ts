/**
 * The card-data guard of DESIGN.md: a primary account number must never enter the ledger, its logs or its
 * idempotency records. A match is refused with 422 before any validation runs.
 */

const CARD_FIELD_NAMES = new Set(['pan', 'cardnumber', 'cvv', 'cvc', 'securitycode']);

// A maximal run of digits where single spaces or dashes may sit between two digits.
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * True when the text holds a run of 13–19 digits (single spaces or dashes allowed between) passing Luhn.
 * A run is also read group by group, where a space or dash splits it: a card number written next to more
 * digits ("4111 1111 1111 1111 123", "ref 1 4111111111111111") is found in the groups it spans, while a
 * run of digits without separators is only taken whole.
 */
export function containsCardNumber(text: string): boolean {
  if (text.length < 13) return false;
  for (const match of text.matchAll(DIGIT_RUN)) {
    const groups = match[0].split(/[ -]/);
    for (let first = 0; first < groups.length; first++) {
      let digits = '';
      for (let last = first; last < groups.length; last++) {
        digits += groups[last];
        if (digits.length > 19) break;
        if (digits.length >= 13 && passesLuhn(digits)) return true;
      }
    }
  }
  return false;
}

function isCardFieldName(key: string): boolean {
  return CARD_FIELD_NAMES.has(key.replace(/[^a-z]/gi, '').toLowerCase());
}

/** Stands in for a key that is itself a card number, so that the answer never echoes it. */
export const REDACTED_SEGMENT = '[card number]';

/** Where in a parsed JSON value card data sits (a JSON-pointer-like path), or null. */
export function findCardData(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return containsCardNumber(value) ? path || '/' : null;
  if (typeof value === 'number') {
    return Number.isInteger(value) && containsCardNumber(BigInt(value).toString()) ? path || '/' : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findCardData(value[i], `${path}/${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (containsCardNumber(key)) return `${path}/${REDACTED_SEGMENT}`;
      const childPath = `${path}/${key}`;
      if (isCardFieldName(key)) return childPath;
      const found = findCardData(child, childPath);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Checks a raw JSON body as well as its parsed form: a 17-digit JSON number loses precision in
 * JSON.parse, so the digits as sent are checked on the raw text, and escaped strings on the parsed value.
 */
export function findCardDataInJson(raw: string, parsed: unknown): string | null {
  return containsCardNumber(raw) ? (findCardData(parsed) ?? '/') : findCardData(parsed);
}
