import { idempotentId, uuidv5, uuidv7 } from './ids';

describe('ids', () => {
  it('computes RFC 9562 UUIDv5 (DNS namespace example)', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('builds UUIDv7 with the time in the first 48 bits and version/variant bits set', () => {
    const id = uuidv7(0x0189_1234_5678, Buffer.alloc(10, 0xff));
    expect(id).toBe('01891234-5678-7fff-bfff-ffffffffffff');
    // Random parts come from a pooled CSPRNG buffer: thousands of ids in one millisecond never repeat.
    expect(new Set(Array.from({ length: 5000 }, () => uuidv7(0x0189_1234_5678))).size).toBe(5000);
    expect(uuidv7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('derives the same id for the same key and idempotency key, another for another', () => {
    expect(idempotentId('k1', 'abc')).toBe(idempotentId('k1', 'abc'));
    expect(idempotentId('k1', 'abc')).not.toBe(idempotentId('k2', 'abc'));
  });
});
