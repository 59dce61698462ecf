import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';
import { ALL_PROJECTIONS, type NewEvent } from '@app/ledger';
import { ledgerCli as ledger, runLedgerCli } from '../support/ledger-cli';

describe('ledger CLI', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates, lists and revokes keys (--json round trip)', async () => {
    const created = await ledger(
      'keys',
      'create',
      '--name',
      'gateway',
      '--role',
      'service,agent',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(created).toMatchObject({ code: 0 });
    const key = JSON.parse(created.stdout);
    expect(key).toEqual({
      id: expect.stringMatching(/^[0-9a-z]{12}$/),
      name: 'gateway',
      roles: ['service', 'agent'],
      createdAt: expect.any(String),
      revokedAt: null,
      key: expect.stringMatching(/^pil_[0-9a-z]{12}_[A-Za-z0-9_-]{43}$/),
    });
    expect(key.key.slice(4, 16)).toBe(key.id);

    const listed = await ledger('--data-dir', dataDir, 'keys', 'list', '--json');
    expect(listed.code).toBe(0);
    const { key: _secret, ...publicView } = key;
    expect(JSON.parse(listed.stdout)).toEqual([publicView]);
    expect(listed.stdout).not.toContain(key.key);

    const revoked = await ledger('keys', 'revoke', key.id, '--json', '--data-dir', dataDir);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({
      id: key.id,
      revokedAt: expect.any(String),
      alreadyRevoked: false,
    });

    const again = await ledger('keys', 'revoke', key.id, '--json', '--data-dir', dataDir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRevoked: true });

    const missing = await ledger('keys', 'revoke', 'nosuchkey000', '--data-dir', dataDir);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('No API key with id "nosuchkey000"');
  });

  it('prints only the key on stdout without --json', async () => {
    const created = await ledger(
      'keys',
      'create',
      '--name',
      'desk',
      '--role',
      'agent',
      '--role',
      'auditor',
      '--data-dir',
      dataDir,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^pil_[0-9a-z]{12}_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toContain('shown only now');
    const listed = await ledger('keys', 'list', '--data-dir', dataDir);
    expect(listed.stdout).toContain('desk');
    expect(listed.stdout).toContain('agent,auditor');
  });

  it('refuses a second live key with a name already taken, and warns about duplicates made before', async () => {
    const first = await ledger(
      'keys',
      'create',
      '--name',
      'desk',
      '--role',
      'agent',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(first.code).toBe(0);
    const { id } = JSON.parse(first.stdout) as { id: string };
    const second = await ledger(
      'keys',
      'create',
      '--name',
      'desk',
      '--role',
      'auditor',
      '--data-dir',
      dataDir,
    );
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`A live API key is already named "desk" (id ${id})`);
    expect(second.stdout).toBe('');

    // A duplicate stored before names had to be unique (written as the store would have then).
    const db = openSqlite(join(dataDir, 'ledger.db'));
    try {
      db.prepare(
        `INSERT INTO api_keys (id, name, roles, secret_hash, created_at, revoked_at)
         VALUES ('olderdupkey0', 'desk', '["agent"]', ?, '2026-01-01T00:00:00.000Z', NULL)`,
      ).run('0'.repeat(64));
    } finally {
      db.close();
    }
    const listed = await ledger('keys', 'list', '--json', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(2);
    expect(listed.stderr).toMatch(/warning: 2 live keys are named "desk" \(olderdupkey0, \w{12}\)/);
  });

  it('reads the environment data directory when --data-dir is absent', async () => {
    const result = await runLedgerCli(['keys', 'list'], {
      env: { LEDGER_DATA_DIR: join(dataDir, 'absent') },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(join(dataDir, 'absent', 'ledger.db'));
  });

  it.each([
    [{ LEDGER_SLA_TARGETS: '{' }, 'LEDGER_SLA_TARGETS is not valid JSON'],
    [
      { MONGODB_URI: 'mongodb://localhost:27017/ledger' },
      'MONGODB_URI (MongoDB) is set, but this build does not support this engine yet',
    ],
  ])('exits 1 with the configuration %j, naming the variable, and creates nothing', async (env, message) => {
    const result = await runLedgerCli(
      ['keys', 'create', '--name', 'x', '--role', 'agent', '--data-dir', dataDir],
      {
        env,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ledger: ${message}`);
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });

  it.each([
    [['keys', 'create', '--name', 'x'], '--role is required'],
    [['keys', 'create', '--role', 'agent'], '--name is required'],
    [['keys', 'create', '--name', 'x', '--role', 'wizard'], 'Unknown role(s) wizard'],
    [
      ['keys', 'create', '--name', 'card 4111 1111 1111 1111', '--role', 'agent'],
      'must not hold a card number',
    ],
    [['keys', 'list', '--limit', '3'], 'Unknown option --limit for "ledger keys list"'],
    [['keys', 'revoke'], 'takes <id>, got none'],
    [['keys', 'list', '--bogus'], "Unknown option '--bogus'"],
    [['events', 'charge-1', '--from', 'x'], '--from must be a non-negative integer'],
    [['keys'], '"ledger keys" needs a subcommand'],
    [[], 'No command given'],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await ledger(...args, '--data-dir', dataDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('answers an unknown command with the list of commands', async () => {
    const result = await ledger('frobnicate', '--data-dir', dataDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown command "frobnicate"');
    for (const command of ['keys create', 'keys list', 'keys revoke <id>', 'events <stream>']) {
      expect(result.stderr).toContain(command);
    }
  });

  it('prints help with an example per command', async () => {
    const general = await ledger('--help');
    expect(general.code).toBe(0);
    expect(general.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found.');
    const create = await ledger('keys', 'create', '--help');
    expect(create.code).toBe(0);
    expect(create.stdout).toContain(
      'Usage: ledger keys create --name <name> --role <role>[,<role>...] [options]',
    );
    expect(create.stdout).toContain('Example:\n  ledger keys create --name billing-gateway --role service');
    expect((await ledger('help', 'events')).stdout).toContain('Usage: ledger events <stream>');
  });

  describe('events', () => {
    const newEvent = (index: number): NewEvent => ({
      type: index === 0 ? 'ChargeRecorded' : 'RefundRequested',
      schemaVersion: 1,
      data: { chargeId: 'ch_1', index },
      metadata: {
        eventId: `00000000-0000-7000-8000-00000000000${index}`,
        occurredAt: '2025-06-01T12:00:00.000Z',
        recordedAt: '2025-06-01T12:00:00.000Z',
        actor: { kind: 'service', id: 'key000000001' },
        correlationId: 'corr-1',
        causationId: null,
        schemaVersion: 1,
      },
    });

    beforeEach(async () => {
      const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
      await store.append('charge-ch_1', [0, 1, 2].map(newEvent), 'no_stream');
      await store.close();
    });

    it('prints the stored events of a stream', async () => {
      const result = await ledger('events', 'charge-ch_1', '--json', '--data-dir', dataDir);
      expect(result.code).toBe(0);
      const events = JSON.parse(result.stdout);
      expect(events.map((event: { revision: number; type: string }) => [event.revision, event.type])).toEqual(
        [
          [0, 'ChargeRecorded'],
          [1, 'RefundRequested'],
          [2, 'RefundRequested'],
        ],
      );
      expect(events[0]).toMatchObject({ stream: 'charge-ch_1', data: { chargeId: 'ch_1', index: 0 } });
      expect(typeof events[0].position).toBe('string');
      expect(events[0].metadata.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('honours --from and --limit', async () => {
      const result = await ledger(
        'events',
        'charge-ch_1',
        '--from',
        '1',
        '--limit',
        '1',
        '--json',
        '--data-dir',
        dataDir,
      );
      expect(JSON.parse(result.stdout).map((event: { revision: number }) => event.revision)).toEqual([1]);
      const human = await ledger('events', 'charge-ch_1', '--data-dir', dataDir);
      expect(human.stdout).toContain('#0 ChargeRecorded v1');
    });

    it('exits 3 for an unknown stream', async () => {
      const result = await ledger('events', 'charge-nope', '--data-dir', dataDir);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('No stream "charge-nope"');
    });

    describe('cut-offs', () => {
      // Recorded 10:00, 12:00, 11:00 (a clock that stepped back); occurred 09:00, 08:00, 13:00.
      const timed = (index: number, recordedAt: string, occurredAt: string): NewEvent => ({
        ...newEvent(index),
        metadata: {
          ...newEvent(index).metadata,
          eventId: `00000000-0000-7000-8000-00000000010${index}`,
          recordedAt: `2025-07-01T${recordedAt}:00.000Z`,
          occurredAt: `2025-07-01T${occurredAt}:00.000Z`,
        },
      });
      beforeEach(async () => {
        const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
        await store.append(
          'charge-ch_t',
          [timed(0, '10:00', '09:00'), timed(1, '12:00', '08:00'), timed(2, '11:00', '13:00')],
          'no_stream',
        );
        await store.close();
      });
      const revisions = async (...options: string[]) => {
        const result = await ledger('events', 'charge-ch_t', ...options, '--json', '--data-dir', dataDir);
        expect([result.code, result.stderr]).toEqual([0, expect.stringContaining('event(s) of charge-ch_t')]);
        return JSON.parse(result.stdout).map((event: { revision: number }) => event.revision);
      };

      it('--as-of keeps the prefix recorded by the instant, --occurred-at what occurred by it', async () => {
        expect(await revisions('--as-of', '2025-07-01T11:30:00Z')).toEqual([0]);
        expect(await revisions('--as-of', '2025-07-01T11:30:00Z', '--from-revision', '2')).toEqual([]);
        expect(await revisions('--as-of', '2025-07-01T12:00:00Z')).toEqual([0, 1, 2]);
        expect(await revisions('--as-of', '2025-07-01T09:00:00Z')).toEqual([]);
        expect(await revisions('--occurred-at', '2025-07-01T08:30:00Z')).toEqual([1]);
        expect(await revisions('--occurred-at', '2025-07-01T09:00:00Z', '--limit', '1')).toEqual([0]);
        const human = await ledger(
          'events',
          'charge-ch_t',
          '--as-of',
          '2025-07-01T11:30:00Z',
          '--data-dir',
          dataDir,
        );
        expect(human.stdout).toContain('recorded 2025-07-01T10:00:00.000Z');
        expect(human.stderr).toContain(
          '1 event(s) of charge-ch_t from revision 0 as of {"asOf":"2025-07-01T11:30:00.000Z"}',
        );
      });

      it('--from-revision and --to-revision bound the revisions; --from stays as the older name', async () => {
        expect(await revisions('--to-revision', '1')).toEqual([0, 1]);
        expect(await revisions('--from-revision', '1')).toEqual([1, 2]);
        expect(await revisions('--from', '1', '--to-revision', '1')).toEqual([1]);
        expect(await revisions('--from-revision', '2', '--to-revision', '1')).toEqual([]);
      });

      it('refuses two cut-offs, both names of one option, or a bad instant (exit 2)', async () => {
        for (const [options, message] of [
          [
            ['--as-of', '2025-07-01T11:30:00Z', '--occurred-at', '2025-07-01T11:30:00Z'],
            'not --as-of and --occurred-at',
          ],
          [['--as-of', '2025-07-01T11:30:00Z', '--to-revision', '1'], 'not --as-of and --to-revision'],
          [
            ['--from', '1', '--from-revision', '1'],
            'Give --from-revision or its older name --from, not both',
          ],
          [['--as-of', 'soon'], '--as-of must be an ISO-8601 date-time'],
          [['--from-revision', 'x'], '--from-revision must be a non-negative integer'],
        ] as const) {
          const result = await ledger('events', 'charge-ch_t', ...options, '--data-dir', dataDir);
          expect({ options, code: result.code, message: result.stderr.includes(message) }).toEqual({
            options,
            code: 2,
            message: true,
          });
        }
      });
    });
  });

  describe('rebuild', () => {
    beforeEach(async () => {
      const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
      await appendLedgerHistory(store, 3, 1500);
      await store.close();
    });

    it('rebuilds a read model into fresh storage and promotes it, with progress on stderr', async () => {
      const result = await ledger('rebuild', 'issue-summary', '--json', '--data-dir', dataDir);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({ projection: 'issue-summary', promoted: true });
      expect(report.applied).toBeGreaterThan(1000);
      expect(result.stderr).toMatch(/issue-summary \[#+\.*\] +\d+%.*events\/s/);

      const db = openSqlite(join(dataDir, 'ledger.db'));
      try {
        const store = new SqliteReadModelStore(db);
        const head = db.prepare('SELECT MAX(position) AS head FROM events').get() as { head: number };
        expect(await store.checkpoint('issue-summary')).toBe(BigInt(head.head));
        const page = await store.list('issue_summaries', {
          orderBy: { field: 'id', direction: 'asc' },
          limit: 5,
        });
        expect(page.items).toHaveLength(5);
      } finally {
        db.close();
      }
    });

    it('rebuilds every read model in two threads, each then equal to a rebuild of its own', async () => {
      const result = await ledger('rebuild', 'all', '--threads', '2', '--json', '--data-dir', dataDir);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.groups).toHaveLength(2);
      expect(report.groups.flat().sort()).toEqual(
        ALL_PROJECTIONS.map((projection) => projection.name).sort(),
      );
      expect(result.stderr).toMatch(/all \[#+\.*\] +\d+%.*events\/s/);
      const db = openSqlite(join(dataDir, 'ledger.db'));
      try {
        const store = new SqliteReadModelStore(db);
        const head = db.prepare('SELECT MAX(position) AS head FROM events').get() as { head: number };
        for (const projection of ALL_PROJECTIONS) {
          expect(await store.checkpoint(projection.name)).toBe(BigInt(head.head));
        }
      } finally {
        db.close();
      }
      for (const projection of ALL_PROJECTIONS) {
        const compared = await ledger('rebuild', projection.name, '--compare', '--data-dir', dataDir);
        expect(compared.stdout).toMatch(/compared [\d,]+ documents: rebuilt and live are equal/);
      }
      const bad = await ledger('rebuild', 'all', '--threads', 'many', '--data-dir', dataDir);
      expect(bad.code).toBe(2);
      // --threads 1: one pass in the CLI's own process.
      const single = await ledger('rebuild', 'all', '--threads', '1', '--json', '--data-dir', dataDir);
      expect(JSON.parse(single.stdout).groups).toEqual([
        ALL_PROJECTIONS.map((projection) => projection.name),
      ]);
      // By default two threads, one on a one-core machine; the report gives the peak memory.
      const byDefault = await ledger('rebuild', 'all', '--data-dir', dataDir);
      expect(byDefault.code).toBe(0);
      const threads = Math.min(2, availableParallelism());
      expect(byDefault.stdout).toMatch(new RegExp(`in ${threads} thread\\(s\\): .*, peak memory \\d+ MB\\n`));
      expect(report.peakRssMb).toBeGreaterThan(0);
    });

    it('compares a rebuild with the live read model, and exits 3 for an unknown projection', async () => {
      expect((await ledger('rebuild', 'charge-summary', '--data-dir', dataDir)).code).toBe(0);
      const compared = await ledger('rebuild', 'charge-summary', '--compare', '--data-dir', dataDir);
      expect(compared.code).toBe(0);
      expect(compared.stdout).toMatch(/compared \d+ documents: rebuilt and live are equal/);
      const unknown = await ledger('rebuild', 'no-such', '--data-dir', dataDir);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('known: issue-summary');
    });
  });
});
