import {
  ROLES,
  type ApiKeyRecord,
  type IdempotencyRecord,
  type IdempotentAnswer,
  type Role,
} from '@app/ledger';

/**
 * The documents of the idempotency and API-key collections, and their checked decoding: what the server
 * sends back is verified field by field, never just cast to the record type. Pure, unit-tested.
 */

/** An idempotency record; the answer as JSON text, as the SQLite adapter keeps it, so it replays byte for byte. */
export interface StoredIdempotencyRecord {
  _id: string;
  requestHash: string;
  status: number;
  answer: string;
  createdAt: string;
}

export interface StoredClaim {
  _id: string;
  holder: string;
  expiresAt: string;
}

export interface StoredApiKey {
  _id: string;
  name: string;
  roles: string[];
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export class StoredRecordError extends Error {
  override readonly name = 'StoredRecordError';
}

type Fields = Record<string, unknown>;

function fieldsOf(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoredRecordError(`${what} is not a document`);
  }
  return value as Fields;
}

function stringField(fields: Fields, name: string, what: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new StoredRecordError(`${what}: ${name} is not a string`);
  return value;
}

export function toStoredIdempotencyRecord(record: IdempotencyRecord): StoredIdempotencyRecord {
  return {
    _id: record.scope,
    requestHash: record.requestHash,
    status: record.status,
    answer: JSON.stringify(record.answer),
    createdAt: record.createdAt,
  };
}

function toAnswer(json: string, what: string): IdempotentAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new StoredRecordError(`${what}: the answer is not JSON`);
  }
  const answer = fieldsOf(parsed, `${what}: the answer`);
  switch (answer.kind) {
    case 'outcome': {
      const { stream, revision, position, extra, changed } = answer;
      if (
        typeof stream !== 'string' ||
        typeof revision !== 'number' ||
        typeof position !== 'string' ||
        typeof changed !== 'boolean'
      ) {
        throw new StoredRecordError(
          `${what}: an outcome answer without stream, revision, position or changed`,
        );
      }
      return {
        kind: 'outcome',
        stream,
        revision,
        position,
        extra: fieldsOf(extra, `${what}: extra`),
        changed,
      };
    }
    case 'problem':
      return { kind: 'problem', problem: fieldsOf(answer.problem, `${what}: the problem`) };
    case 'body':
      return { kind: 'body', body: stringField(answer, 'body', what) };
    default:
      throw new StoredRecordError(`${what}: unknown answer kind ${JSON.stringify(answer.kind)}`);
  }
}

export function toIdempotencyRecord(value: unknown): IdempotencyRecord {
  const fields = fieldsOf(value, 'An idempotency record');
  const scope = stringField(fields, '_id', 'An idempotency record');
  const what = `The idempotency record ${scope}`;
  const status = fields.status;
  if (typeof status !== 'number' || !Number.isInteger(status)) {
    throw new StoredRecordError(`${what}: status is not an integer`);
  }
  return {
    scope,
    requestHash: stringField(fields, 'requestHash', what),
    status,
    answer: toAnswer(stringField(fields, 'answer', what), what),
    createdAt: stringField(fields, 'createdAt', what),
  };
}

export function toStoredApiKey(record: ApiKeyRecord): StoredApiKey {
  return {
    _id: record.id,
    name: record.name,
    roles: [...record.roles],
    secretHash: record.secretHash,
    createdAt: record.createdAt,
    revokedAt: record.revokedAt,
  };
}

const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

export function toApiKeyRecord(value: unknown): ApiKeyRecord {
  const fields = fieldsOf(value, 'An API key');
  const id = stringField(fields, '_id', 'An API key');
  const what = `The API key ${id}`;
  const { roles, revokedAt } = fields;
  if (!Array.isArray(roles) || !roles.every(isRole)) {
    throw new StoredRecordError(`${what}: roles are not among ${ROLES.join(', ')}`);
  }
  if (revokedAt !== null && typeof revokedAt !== 'string') {
    throw new StoredRecordError(`${what}: revokedAt is neither null nor a string`);
  }
  return {
    id,
    name: stringField(fields, 'name', what),
    roles: [...roles],
    secretHash: stringField(fields, 'secretHash', what),
    createdAt: stringField(fields, 'createdAt', what),
    revokedAt,
  };
}
