/**
 * The card-data guard of DESIGN.md: a primary account number must never enter the ledger, its logs or its
 * idempotency records. A match is refused with 422 before any validation runs.
 */

const CARD_FIELD_NAMES = new Set(['pan', 'cardnumber', 'cvv', 'cvc', 'securitycode']);

// A maximal run of digits where one separator may sit between two digits: a space (also a no-break or
// narrow no-break one) or a dash.
const DIGIT_RUN = /\d(?:[ \u00a0\u202f-]?\d)*/g;
const SEPARATOR = /[ \u00a0\u202f-]/;
/**
 * A card number written with dots, only in a card's own grouping (and perhaps its CVV after it): dotted
 * decimals and dates are not.
 */
const DOTTED_CARD = /(?<![\d.])(\d{4}\.\d{4}\.\d{4}\.\d{4}|\d{4}\.\d{6}\.\d{4,5})(\.\d{1,4})?(?![\d.])/g;
/**
 * A UUID, which no card number is written as: its dash-separated groups of digits would otherwise pass for
 * one about once in 600 ids. A standard one (RFC 9562: any version, the variant nibble 8, 9, a or b; the
 * ledger's own ids are v7 and v5, clients' often v4) is always set aside, since refusing one makes an id
 * the ledger issued unreadable; a UUID-shaped string of another variant that holds four dash-separated
 * groups of 4 digits is kept and searched, since a card number could be hidden in it so.
 */
const UUID = /(?<![0-9a-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])/gi;
const STANDARD_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-/i;
const CARD_IN_UUID = /(?<!\d)\d{4}-\d{4}-\d{4}-\d{4}(?!\d)/;
/** What may be an IBAN (ISO 13616), spaced or not; set aside when a prefix of it passes the mod-97 check. */
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,40}/g;
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
 * True when the text holds a run of 13–19 digits (single spaces or dashes allowed between) passing Luhn,
 * after UUIDs and IBANs are set aside, or such a number dotted in a card's grouping (4.4.4.4). A run grouped
 * like a card (one block, groups of 4, or 4-6-5) followed by one more group of up to 4 digits is also read
 * without that group, so that a card number written with its CVV or expiry after it
 * ("4111 1111 1111 1111 123", "4111111111111111 12/28") is still found, while dates, amounts and other
 * groupings are not searched for every 16 digits that happen to pass.
 */
export function containsCardNumber(text: string): boolean {
  if (text.length < 13) return false;
  for (const match of text.matchAll(DOTTED_CARD)) {
    if (isCardNumber(match[0].replaceAll('.', '')) || isCardNumber(match[1].replaceAll('.', ''))) return true;
  }
  const scanned = withoutIbans(
    text.includes('-')
      ? text.replace(UUID, (uuid) => (!STANDARD_UUID.test(uuid) && CARD_IN_UUID.test(uuid) ? uuid : ' '))
      : text,
  );
  for (const match of scanned.matchAll(DIGIT_RUN)) {
    const groups = match[0].split(SEPARATOR);
    if (isCardNumber(groups.join(''))) return true;
    const last = groups.length - 1;
    if (last > 0 && groups[last].length <= TRAILING_MAX_DIGITS && isCardShaped(groups.slice(0, last))) {
      if (isCardNumber(groups.slice(0, last).join(''))) return true;
    }
  }
  return false;
}

const isCardNumber = (digits: string): boolean =>
  digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);

function isCardShaped(groups: readonly string[]): boolean {
  if (groups.length === 1) return true;
  const lengths = groups.map((group) => group.length).join(',');
  return groups.every((group) => group.length === 4) || lengths === '4,6,5' || lengths === '4,6,4';
}

/** ISO 7064 mod 97-10 of an IBAN (letters as 10–35, the first four characters moved to the end). */
function ibanChecksumPasses(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** The text with every IBAN blanked out: the longest prefix of each candidate (15–34 characters) that passes. */
function withoutIbans(text: string): string {
  if (!/[A-Z]{2}\d{2}/.test(text)) return text;
  return text.replace(IBAN_CANDIDATE, (candidate) => {
    const ends: number[] = [];
    let compact = '';
    for (let i = 0; i < candidate.length; i++) {
      if (candidate[i] === ' ') continue;
      compact += candidate[i];
      ends.push(i + 1);
    }
    for (let length = Math.min(compact.length, 34); length >= 15; length--) {
      if (ibanChecksumPasses(compact.slice(0, length))) {
        return ' '.repeat(ends[length - 1]) + candidate.slice(ends[length - 1]);
      }
    }
    return candidate;
  });
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
