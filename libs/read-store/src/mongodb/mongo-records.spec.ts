import type { ApiKeyRecord, IdempotencyRecord } from '@app/ledger';
import {
  StoredRecordError,
  toApiKeyRecord,
  toIdempotencyRecord,
  toStoredApiKey,
  toStoredIdempotencyRecord,
} from './mongo-records';

const outcome: IdempotencyRecord = {
  scope: 'a'.repeat(64),
  requestHash: 'f'.repeat(64),
  status: 201,
  answer: {
    kind: 'outcome',
    stream: 'issue-1',
    revision: 0,
    position: '18446744073709551615',
    extra: { issueId: 'i-1', note: 'Zoë ☕' },
    changed: true,
  },
  createdAt: '2025-06-01T12:00:00.000Z',
};

const key: ApiKeyRecord = {
  id: 'k1',
  name: 'Zoë’s desk',
  roles: ['agent', 'auditor'],
  secretHash: 'e'.repeat(64),
  createdAt: '2025-01-02T03:04:05.000Z',
  revokedAt: null,
};

describe('MongoDB record documents', () => {
  it('stores an idempotency record under its scope, the answer as JSON text, and reads it back equal', () => {
    const stored = toStoredIdempotencyRecord(outcome);
    expect(stored).toEqual({
      _id: outcome.scope,
      requestHash: outcome.requestHash,
      status: 201,
      answer:
        '{"kind":"outcome","stream":"issue-1","revision":0,"position":"18446744073709551615",' +
        '"extra":{"issueId":"i-1","note":"Zoë ☕"},"changed":true}',
      createdAt: outcome.createdAt,
    });
    expect(toIdempotencyRecord(stored)).toEqual(outcome);
    for (const answer of [
      { kind: 'problem', problem: { type: '/errors/issue-not-found', status: 404 } },
      { kind: 'body', body: '{"legacy":true}' },
    ] as const) {
      const record = { ...outcome, status: 404, answer };
      expect(toIdempotencyRecord(toStoredIdempotencyRecord(record))).toEqual(record);
    }
  });

  it('refuses idempotency documents that are not records', () => {
    const stored = toStoredIdempotencyRecord(outcome);
    const broken: unknown[] = [
      null,
      [],
      { ...stored, _id: 7 },
      { ...stored, status: '201' },
      { ...stored, status: 201.5 },
      { ...stored, answer: 'not json' },
      { ...stored, answer: '{"kind":"surprise"}' },
      {
        ...stored,
        answer: '{"kind":"outcome","stream":"s","revision":"0","position":"1","extra":{},"changed":true}',
      },
      { ...stored, answer: '{"kind":"problem","problem":[]}' },
      { ...stored, requestHash: undefined },
    ];
    for (const value of broken) expect(() => toIdempotencyRecord(value)).toThrow(StoredRecordError);
  });

  it('stores an API key under its id and reads it back equal, revoked or not', () => {
    expect(toStoredApiKey(key)).toEqual({ _id: 'k1', ...key, id: undefined });
    expect(toApiKeyRecord(toStoredApiKey(key))).toEqual(key);
    const revoked = { ...key, revokedAt: '2025-02-01T00:00:00.000Z' };
    expect(toApiKeyRecord(toStoredApiKey(revoked))).toEqual(revoked);
  });

  it('refuses API key documents with unknown roles or wrong types', () => {
    const stored = toStoredApiKey(key);
    for (const value of [
      { ...stored, roles: ['root'] },
      { ...stored, roles: 'admin' },
      { ...stored, revokedAt: 0 },
      { ...stored, secretHash: null },
      { ...stored, _id: undefined },
    ]) {
      expect(() => toApiKeyRecord(value)).toThrow(StoredRecordError);
    }
  });
});
