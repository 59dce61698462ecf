import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import {
  IdempotencyKeyReusedError,
  systemClock,
  uuidv7Generator,
  type CommandMeta,
  type EventStore,
} from '@app/ledger';
import { StreamCommandRunner } from '../../libs/ledger/src/application/commands/stream-command-runner';
import type { IssueCommand } from '../../libs/ledger/src/domain/issue/issue.commands';
import { issueDecider } from '../../libs/ledger/src/domain/issue/issue.decider';

const meta: CommandMeta = {
  actor: { kind: 'agent', id: 'key-agent' },
  occurredAt: new Date().toISOString(),
  correlationId: 'corr-1',
  causationId: null,
};

describe('StreamCommandRunner on the SQLite event store', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runner-'));
    store = SqliteEventStore.open(join(dir, 'ledger.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (runner: StreamCommandRunner, build: (context: never) => IssueCommand) =>
    runner.run({
      stream: 'issue-is_1',
      decider: issueDecider,
      build: (context) => build(context as never),
      meta,
      schemaVersionOf: () => 1,
    });

  it('commands on one stream issued in the same turn all succeed, each deciding on the one before', async () => {
    const runner = new StreamCommandRunner(store, systemClock, uuidv7Generator);
    await run(runner, (context) => ({
      type: 'OpenIssue',
      issueId: 'is_1',
      customerId: 'cu_1',
      category: 'delayed_refund',
      channel: 'email',
      priority: 'normal',
      chargeIds: [],
      context,
    }));
    // Without a queue per stream, all 40 load revision 0 and append in one batch: one wins per attempt,
    // and those still losing after 5 attempts fail with ConcurrentModificationError.
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        run(runner, (context) => ({ type: 'AddNote', issueId: 'is_1', text: `note ${i}`, context })),
      ),
    );
    expect(results.map((outcome) => outcome.changed)).toEqual(results.map(() => true));
    expect(results.map((outcome) => outcome.revision)).toEqual(results.map((_, i) => i + 1));
    const events = await store.readStream('issue-is_1');
    expect(events.slice(1).map((event) => event.data.text)).toEqual(results.map((_, i) => `note ${i}`));
  });

  describe('a command under an Idempotency-Key that loses a race to another process', () => {
    let other: SqliteEventStore;
    beforeEach(() => {
      other = SqliteEventStore.open(join(dir, 'ledger.db'));
    });
    afterEach(() => other.close());

    const keyed = (fingerprint: string): CommandMeta => ({
      ...meta,
      idempotency: { key: 'k-1', record: { scope: 'scope-1', requestHash: 'h', status: 201 }, fingerprint },
    });
    const note = (runner: StreamCommandRunner, commandMeta: CommandMeta) =>
      runner.run({
        stream: 'issue-is_1',
        decider: issueDecider,
        build: (context) => ({ type: 'AddNote' as const, issueId: 'is_1', text: 'once', context }),
        meta: commandMeta,
        schemaVersionOf: () => 1,
      });

    /** `store`, except that its first append lets `before` run to its end first, as a faster process would. */
    const losingFirstAppend = (before: () => Promise<unknown>): EventStore => {
      let raced = false;
      return new Proxy(store, {
        get(target, property, receiver) {
          if (property !== 'append') return Reflect.get(target, property, receiver);
          return async (...args: Parameters<EventStore['append']>) => {
            if (!raced) {
              raced = true;
              await before();
            }
            return target.append(...args);
          };
        },
      });
    };

    beforeEach(async () => {
      await run(new StreamCommandRunner(store, systemClock, uuidv7Generator), (context) => ({
        type: 'OpenIssue',
        issueId: 'is_1',
        customerId: 'cu_1',
        category: 'delayed_refund',
        channel: 'email',
        priority: 'normal',
        chargeIds: [],
        context,
      }));
    });

    it('answers what the winner appended when the winner was this same request, and appends nothing', async () => {
      const winner = new StreamCommandRunner(other, systemClock, uuidv7Generator);
      let won: Awaited<ReturnType<StreamCommandRunner['run']>> | undefined;
      const loser = new StreamCommandRunner(
        losingFirstAppend(async () => (won = await note(winner, keyed('f-1')))),
        systemClock,
        uuidv7Generator,
      );
      const outcome = await note(loser, keyed('f-1'));
      expect(won).toMatchObject({ revision: 1, changed: true, replayed: false });
      expect(outcome).toEqual({ ...won, recorded: false, replayed: true });
      expect((await store.readStream('issue-is_1')).map((event) => event.type)).toEqual([
        'IssueOpened',
        'NoteAdded',
      ]);
    });

    it('refuses it as a reuse of the key when the winner sent another request under it', async () => {
      const winner = new StreamCommandRunner(other, systemClock, uuidv7Generator);
      const loser = new StreamCommandRunner(
        losingFirstAppend(() => note(winner, keyed('f-1'))),
        systemClock,
        uuidv7Generator,
      );
      await expect(note(loser, keyed('f-2'))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
      expect(await store.readStream('issue-is_1')).toHaveLength(2);
    });
  });
});
