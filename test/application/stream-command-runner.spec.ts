import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { systemClock, uuidv7Generator, type CommandMeta } from '@app/ledger';
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
});
