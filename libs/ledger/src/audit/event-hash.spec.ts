import { createHash } from 'node:crypto';
import type { NewEvent, StoredEvent } from '../application/ports/event-store.port';
import { canonicalEventBytes, eventHash, verifyStreamChain, ZERO_HASH } from './event-hash';

function newEvent(index: number, data: Record<string, unknown> = { index }): NewEvent {
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data,
    metadata: {
      eventId: `evt-${index}`,
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'agent', id: 'key1', agentId: 'agent-7' },
      correlationId: 'corr-1',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

/** Chains events the way the store does. */
function chain(stream: string, events: NewEvent[], firstPosition = 1n): StoredEvent[] {
  let prevHash = ZERO_HASH;
  return events.map((event, revision) => {
    const metadata = { ...event.metadata, prevHash };
    const canonical = canonicalEventBytes({ stream, revision, ...event, metadata });
    const hash = eventHash(canonical);
    prevHash = hash;
    return {
      stream,
      revision,
      position: firstPosition + BigInt(revision),
      ...event,
      metadata: { ...metadata, hash },
      canonical,
    };
  });
}

const history = () =>
  chain(
    'issue-1',
    [0, 1, 2, 3].map((i) => newEvent(i)),
  );

describe('canonicalEventBytes', () => {
  it('encodes the envelope with metadata minus hash, keys sorted, prevHash inside metadata', () => {
    const event = newEvent(0, { text: 'hi', amount: 100 });
    const bytes = canonicalEventBytes({
      stream: 'issue-1',
      revision: 0,
      ...event,
      metadata: { ...event.metadata, prevHash: ZERO_HASH, hash: 'ignored' },
    });
    expect(bytes).toBe(
      '{"data":{"amount":100,"text":"hi"},"metadata":{"actor":{"agentId":"agent-7","id":"key1","kind":"agent"},' +
        '"causationId":null,"correlationId":"corr-1","eventId":"evt-0","occurredAt":"2025-06-01T12:00:00.000Z",' +
        `"prevHash":"${ZERO_HASH}","recordedAt":"2025-06-01T12:00:01.000Z","schemaVersion":1},` +
        '"revision":0,"schemaVersion":1,"stream":"issue-1","type":"NoteAdded"}',
    );
  });

  it('hashes as lowercase hex SHA-256 of the UTF-8 bytes', () => {
    const text = '{"a":"é"}';
    expect(eventHash(text)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    expect(eventHash(Buffer.from(text, 'utf8'))).toBe(eventHash(text));
    expect(eventHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(ZERO_HASH).toMatch(/^0{64}$/);
  });
});

describe('verifyStreamChain', () => {
  it('accepts an intact stream and interleaved streams', () => {
    expect(verifyStreamChain(history())).toEqual({ ok: true, checked: 4, firstBroken: null });
    const other = chain('charge-9', [newEvent(10), newEvent(11)]);
    const [a0, a1, a2, a3] = history();
    expect(verifyStreamChain([a0, other[0], a1, a2, other[1], a3])).toMatchObject({ ok: true, checked: 6 });
    expect(verifyStreamChain([])).toEqual({ ok: true, checked: 0, firstBroken: null });
  });

  it('finds changed data that left the canonical bytes alone', () => {
    const events = history();
    events[2] = { ...events[2], data: { index: 99 } };
    expect(verifyStreamChain(events)).toEqual({
      ok: false,
      checked: 2,
      firstBroken: expect.objectContaining({ stream: 'issue-1', revision: 2, reason: 'canonical-mismatch' }),
    });
  });

  it('finds changed metadata', () => {
    const events = history();
    events[1] = { ...events[1], metadata: { ...events[1].metadata, occurredAt: '2020-01-01T00:00:00.000Z' } };
    expect(verifyStreamChain(events).firstBroken).toMatchObject({
      revision: 1,
      reason: 'canonical-mismatch',
    });
  });

  it('finds canonical bytes and fields changed together', () => {
    const events = history();
    const data = { index: 42 };
    events[1] = { ...events[1], data, canonical: canonicalEventBytes({ ...events[1], data }) };
    expect(verifyStreamChain(events).firstBroken).toMatchObject({ revision: 1, reason: 'hash-mismatch' });
  });

  it('finds an event rewritten with a fresh hash through the next event', () => {
    const events = history();
    const data = { index: 42 };
    const canonical = canonicalEventBytes({ ...events[1], data });
    events[1] = {
      ...events[1],
      data,
      canonical,
      metadata: { ...events[1].metadata, hash: eventHash(canonical) },
    };
    expect(verifyStreamChain(events).firstBroken).toMatchObject({
      revision: 2,
      reason: 'prev-hash-mismatch',
    });
  });

  it('finds a removed event', () => {
    const events = history();
    events.splice(1, 1);
    expect(verifyStreamChain(events)).toMatchObject({
      ok: false,
      checked: 1,
      firstBroken: { revision: 2, reason: 'revision-gap' },
    });
    expect(verifyStreamChain(history().slice(1)).firstBroken).toMatchObject({
      revision: 1,
      reason: 'revision-gap',
    });
  });

  it('finds reordered events', () => {
    const [e0, e1, e2, e3] = history();
    expect(verifyStreamChain([e0, e2, e1, e3]).firstBroken).toMatchObject({
      revision: 2,
      reason: 'revision-gap',
    });
  });

  it('finds an inserted event, even one renumbered to fit', () => {
    const events = history();
    const intruder = chain('issue-1', [newEvent(0), newEvent(7)])[1];
    expect(
      verifyStreamChain([...events.slice(0, 2), intruder, ...events.slice(2)]).firstBroken,
    ).toMatchObject({
      revision: 1,
      reason: 'revision-gap',
    });
    const renumbered = { ...intruder, revision: 2 };
    expect(verifyStreamChain([...events.slice(0, 2), renumbered]).firstBroken).toMatchObject({
      revision: 2,
      reason: 'prev-hash-mismatch',
    });
  });

  it('finds a first event that does not start from the zero hash', () => {
    const events = history();
    events[0] = { ...events[0], metadata: { ...events[0].metadata, prevHash: 'f'.repeat(64) } };
    expect(verifyStreamChain(events).firstBroken).toMatchObject({
      revision: 0,
      reason: 'prev-hash-mismatch',
    });
  });
});

describe('the worked example of docs/hashing.md', () => {
  it('gives the hashes printed there', () => {
    const first = {
      stream: 'charge-ch_1001',
      revision: 0,
      type: 'ChargeSucceeded',
      schemaVersion: 1,
      data: {
        chargeId: 'ch_1001',
        customerId: 'cus_42',
        amount: 4999,
        currency: 'EUR',
        provider: 'stripe',
        note: 'Café ☕',
      },
      metadata: {
        eventId: '01970b6e-6a40-7a3c-9d2b-3f1c2a7e5b10',
        occurredAt: '2025-06-01T12:00:00.000Z',
        recordedAt: '2025-06-01T12:00:00.250Z',
        actor: { kind: 'service' as const, id: 'key_billing01' },
        correlationId: 'corr-7f3a',
        causationId: null,
        schemaVersion: 1,
        prevHash: ZERO_HASH,
      },
    };
    const canonical = canonicalEventBytes(first);
    expect(Buffer.byteLength(canonical, 'utf8')).toBe(538);
    expect(eventHash(canonical)).toBe('6c45fb1973d88cc6ca0c545e205d9db9ddfd9bad6ea1f8b99f126782c8afe3d3');
    const second = {
      ...first,
      revision: 1,
      type: 'RefundRequested',
      data: {
        refundId: 're_1',
        amount: 1000,
        reason: 'requested_by_customer',
        dueBy: '2025-06-08T12:00:00.000Z',
      },
      metadata: {
        ...first.metadata,
        eventId: '01970b6f-0000-7000-8000-000000000001',
        occurredAt: '2025-06-02T09:30:00.000Z',
        recordedAt: '2025-06-02T09:30:00.100Z',
        idempotencyKey: 'refund-re_1',
        prevHash: eventHash(canonical),
      },
    };
    expect(eventHash(canonicalEventBytes(second))).toBe(
      '04881b597a09258638a7ba8e9a237d190b2f5549b209bc9e2321619da6c73c2f',
    );
  });
});

describe('metadata members added for idempotency', () => {
  const keyed = (index: number): NewEvent => {
    const event = newEvent(index);
    return {
      ...event,
      metadata: {
        ...event.metadata,
        idempotencyKey: `note-${index}`,
        idempotencyScope: 'a'.repeat(64),
        requestFingerprint: 'b'.repeat(64),
      },
    };
  };

  it('are hashed as stored, in JCS order, in the events that carry them; older events keep their bytes', () => {
    const events = chain('issue-1', [newEvent(0), keyed(1), newEvent(2)]);
    expect(verifyStreamChain(events)).toEqual(expect.objectContaining({ ok: true }));
    expect(events[1].canonical).toContain(
      `"idempotencyKey":"note-1","idempotencyScope":"${'a'.repeat(64)}","occurredAt":`,
    );
    expect(events[1].canonical).toContain(
      `"recordedAt":"2025-06-01T12:00:01.000Z","requestFingerprint":"${'b'.repeat(64)}"`,
    );
    expect(events[0].canonical).toBe(history()[0].canonical);
    expect(events[2].canonical).not.toMatch(/idempotency|requestFingerprint/);
  });

  it('break the chain when changed, like any member', () => {
    const events = chain('issue-1', [newEvent(0), keyed(1)]);
    events[1] = { ...events[1], metadata: { ...events[1].metadata, requestFingerprint: 'c'.repeat(64) } };
    expect(verifyStreamChain(events)).toEqual(expect.objectContaining({ ok: false }));
  });
});
