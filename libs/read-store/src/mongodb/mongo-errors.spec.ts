import { MongoError, MongoNetworkError, MongoServerError } from 'mongodb';
import { classifyMongoError, isDuplicateKey, MongoCode } from './mongo-errors';

/** A server error as the driver builds it from a server reply. */
const serverError = (reply: { code: number; codeName: string; errmsg: string; errorLabels?: string[] }) =>
  new MongoServerError({ ok: 0, ...reply });

describe('classifyMongoError', () => {
  it('reads a duplicate key from its code, whatever the message says', () => {
    const error = serverError({
      code: 11000,
      codeName: 'DuplicateKey',
      errmsg: 'E11000 duplicate key error collection: ledger.idempotency index: _id_ dup key: { _id: "k" }',
    });
    expect(error).toBeInstanceOf(MongoServerError);
    expect(classifyMongoError(error)).toBe('duplicate-key');
    expect(isDuplicateKey(error)).toBe(true);
    const reworded = serverError({ code: 11000, codeName: 'DuplicateKey', errmsg: 'some other wording' });
    expect(classifyMongoError(reworded)).toBe('duplicate-key');
    const sameWordsOtherCode = serverError({ code: 2, codeName: 'BadValue', errmsg: 'E11000 duplicate key' });
    expect(isDuplicateKey(sameWordsOtherCode)).toBe(false);
  });

  it('reads transient errors from the TransientTransactionError label, or a bare write conflict', () => {
    const labelled = serverError({
      code: MongoCode.WriteConflict,
      codeName: 'WriteConflict',
      errmsg: 'Write conflict during plan execution and yielding is disabled.',
      errorLabels: ['TransientTransactionError'],
    });
    expect(labelled.hasErrorLabel('TransientTransactionError')).toBe(true);
    expect(classifyMongoError(labelled)).toBe('transient');
    const bare = serverError({ code: 112, codeName: 'WriteConflict', errmsg: 'WriteConflict' });
    expect(classifyMongoError(bare)).toBe('transient');
    // The label wins over the code: a duplicate key raised by a racing transaction is retried, not reported.
    const racing = serverError({
      code: 11000,
      codeName: 'DuplicateKey',
      errmsg: 'E11000',
      errorLabels: ['TransientTransactionError'],
    });
    expect(classifyMongoError(racing)).toBe('transient');
    const network = new MongoNetworkError('connection reset');
    network.addErrorLabel('TransientTransactionError');
    expect(classifyMongoError(network)).toBe('transient');
  });

  it('reads an unknown commit result from its label', () => {
    const error = serverError({
      code: 50,
      codeName: 'MaxTimeMSExpired',
      errmsg: 'operation exceeded time limit',
      errorLabels: ['UnknownTransactionCommitResult'],
    });
    expect(classifyMongoError(error)).toBe('unknown-commit-result');
  });

  it('reads a standalone server refusing transactions, and namespace answers of DDL', () => {
    const standalone = serverError({
      code: 20,
      codeName: 'IllegalOperation',
      errmsg: 'Transaction numbers are only allowed on a replica set member or mongos',
    });
    expect(classifyMongoError(standalone)).toBe('not-a-replica-set');
    const exists = serverError({
      code: 48,
      codeName: 'NamespaceExists',
      errmsg: 'Collection already exists.',
    });
    expect(classifyMongoError(exists)).toBe('namespace-exists');
    const missing = serverError({ code: 26, codeName: 'NamespaceNotFound', errmsg: 'ns not found' });
    expect(classifyMongoError(missing)).toBe('namespace-not-found');
  });

  it('leaves everything else as other', () => {
    expect(
      classifyMongoError(serverError({ code: 13, codeName: 'Unauthorized', errmsg: 'not authorized' })),
    ).toBe('other');
    expect(classifyMongoError(new MongoError('client side'))).toBe('other');
    expect(classifyMongoError(new Error('E11000 duplicate key'))).toBe('other');
    expect(classifyMongoError(Object.assign(new Error('a code alone'), { code: 11000 }))).toBe(
      'duplicate-key',
    );
    expect(classifyMongoError(null)).toBe('other');
    expect(classifyMongoError('E11000')).toBe('other');
  });
});
