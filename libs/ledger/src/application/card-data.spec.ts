import { randomUUID } from 'node:crypto';
import { idempotentId, uuidv7Generator } from './ids';
import { containsCardNumber, findCardData, findCardDataInJson, passesLuhn } from './card-data';

describe('card-data guard', () => {
  it('applies the Luhn check', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(passesLuhn('79927398713')).toBe(true);
  });

  it.each([
    ['4111111111111111', true],
    ['card 4111 1111 1111 1111 please', true],
    ['4111-1111-1111-1111', true],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['4111  1111 1111 1111', false], // double space breaks the run
    ['4111111111111112', false], // fails Luhn
    ['411111111111', false], // 12 digits
    ['order-2026-03-01', false],
    ['ch_1234567890', false],
    // A card number beside more digits is still found in the groups it spans.
    ['card 4111111111111111 123', true],
    ['card 4111 1111 1111 1111 12/28', true],
    ['card 4111-1111-1111-1111-123', true],
    ['5500 0000 0000 0004 1', true],
    ['4111111111111111 12/28', true],
    ['41111111111111111', false], // 17 digits with no separator: taken whole, fails Luhn
    ['2026-03-01 10:00, ticket 1234 5678', false],
    ['4111\u00a01111\u00a01111\u00a01111', true], // no-break spaces
    ['4111.1111.1111.1111.123', true],
    // Dotted decimals and dates, and date pairs, are not read as one run.
    ['refunds 610.83 723.15 213.42 100.01 5.12', false],
    ['period 06.02.2026 24.06.2026', false],
    // A UUID-shaped string of no standard variant that hides four groups of 4 digits is searched.
    ['deadbeef-4111-1111-1111-1111cafebabe', true],
    // Standard UUIDs are set aside even when four groups of digits pass Luhn: a v7 the ledger issued, a v4.
    ['01a251d3-5055-7664-9220-9354af5e4a46', false],
    ['1e4039ea-3155-4671-8081-5027c5e0ff00', false],
    ['issue-01a251d3-5055-7664-9220-9354af5e4a46', false],
    // IBANs whose digits form a run of 13-19 (CH, GB) are set aside when they pass mod 97.
    ['CH93 0076 2011 6238 5295 7', false],
    ['CH9300762011623852957', false],
    ['GB29 NWBK 6016 1331 9268 19', false],
    ['4111.1111.1111.1111', true],
    // UUIDs are set aside: these hold dash-separated digit groups that pass Luhn.
    ['969d4dd7-4768-5145-9177-11ad7ed65af1', false],
    ['01a23807-0856-7794-9404-afed9468892c', false],
    ['issue-969d4dd7-4768-5145-9177-11ad7ed65af1', false],
    // An IBAN's groups are not searched for 16 digits that pass (this one has three such windows).
    ['IBAN PL61 1090 1014 0000 0712 1981 2874', false],
    ['PL 61 1090 1014 0000 0712 1981 2874', false],
    // Nor a German one, whose first and last groups hold 2 digits (these pass Luhn without either or both).
    ['DE18 8458 2643 8775 9930 92', false],
    ['DE34 3553 5404 1430 4941 16', false],
  ])('%s -> %s', (text, expected) => {
    expect(containsCardNumber(text)).toBe(expected);
  });

  it('never refuses an id the ledger issues (UUIDv7, v5) or a client UUIDv4, alone or in a stream name', () => {
    // Before UUIDs were set aside, about 1 in 600 ledger ids held digit groups passing Luhn.
    const ids = Array.from({ length: 20_000 }, (_, i) =>
      i % 3 === 0 ? uuidv7Generator.next() : i % 3 === 1 ? idempotentId('key', `k${i}`) : randomUUID(),
    );
    expect(ids.filter((id) => containsCardNumber(id) || containsCardNumber(`issue-${id}`))).toEqual([]);
  });

  it('finds card data at any depth, in keys and in numbers', () => {
    expect(findCardData({ a: { b: ['x', 'pay 4242424242424242'] } })).toBe('/a/b/1');
    // The path never repeats the card number it found: a key holding one is redacted.
    expect(findCardData({ nested: { '4242424242424242': true } })).toBe('/nested/[card number]');
    expect(findCardData({ amount: 4242424242424242 })).toBe('/amount');
    expect(findCardData({ amount: 1000, note: 'fine' })).toBeNull();
  });

  it.each(['pan', 'cardNumber', 'card_number', 'CVV', 'cvc', 'securityCode'])(
    'refuses a field named %s',
    (key) => {
      expect(findCardData({ [key]: 'x' })).toBe(`/${key}`);
    },
  );

  it('checks numbers as sent, before JSON.parse rounds them', () => {
    const raw = '{"n": 4000056655665556}';
    expect(findCardDataInJson(raw, JSON.parse(raw))).not.toBeNull();
    const big = '{"n": 6011000990139424}';
    expect(findCardDataInJson(big, JSON.parse(big))).not.toBeNull();
    expect(findCardDataInJson('{"n": 12}', { n: 12 })).toBeNull();
  });
});
