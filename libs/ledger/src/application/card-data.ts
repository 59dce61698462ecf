/**
 * The card-data guard of DESIGN.md: a primary account number must never enter the ledger, its logs or its
 * idempotency records. A match is refused with 422 before any validation runs.
 */

const CARD_FIELD_NAMES = new Set(['pan', 'cardnumber', 'cvv', 'cvc', 'securitycode']);

// A maximal run of digits where one separator may sit between two digits: a space (also a no-break or
// narrow no-break one), a dash or a dot.
const DIGIT_RUN = /\d(?:[ \u00a0\u202f.-]?\d)*/g;
const SEPARATOR = /[ \u00a0\u202f.-]/;
/**
 * A UUID (any version: the ledger's own ids are v7 and v5), which no card number can be written as: its
 * dash-separated groups of digits would otherwise pass for one about once in 600 ids.
 */
const UUID = /(?<![0-9a-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])/gi;
/** The most digits of a group after a card number that may be set aside (a CVV, an expiry). */
const TRAILING_MAX_DIGITS = 4;

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
 * True when the text holds a run of 13–19 digits (single separators allowed between) passing Luhn, after
 * UUIDs are set aside. A run of several groups is also read without its last group when that group holds
 * up to 4 digits and the first holds at least 4, so that a card number written with its CVV or expiry
 * after it ("4111 1111 1111 1111 123", "4111111111111111 12/28") is still found. Nothing more is set aside:
 * an IBAN's groups (a 2-digit group first or last) or a list of amounts are not searched for every 16
 * digits that happen to pass.
 */
export function containsCardNumber(text: string): boolean {
  if (text.length < 13) return false;
  const scanned = text.includes('-') ? text.replace(UUID, ' ') : text;
  for (const match of scanned.matchAll(DIGIT_RUN)) {
    const groups = match[0].split(SEPARATOR);
    if (isCardNumber(groups.join(''))) return true;
    const last = groups.length - 1;
    if (last > 0 && groups[last].length <= TRAILING_MAX_DIGITS && groups[0].length >= 4) {
      if (isCardNumber(groups.slice(0, last).join(''))) return true;
    }
  }
  return false;
}

const isCardNumber = (digits: string): boolean =>
  digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);

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
