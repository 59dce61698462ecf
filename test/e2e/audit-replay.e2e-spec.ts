import { AggregateStateCache } from '../../libs/ledger/src/application/aggregate-state-cache';
import {
  chargeDecider,
  customerDecider,
  issueDecider,
  type Decider,
  type DomainEvent,
} from '../../libs/ledger/src/domain';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, post, uniqueIds } from '../support/http';
import { randomWorkload } from '../support/workload';
import { ledgerCli } from '../support/ledger-cli';

const SEED = 20261201;
const COMMANDS = 160;

const deciderOf = (stream: string) =>
  (stream.startsWith('charge-')
    ? chargeDecider
    : stream.startsWith('issue-')
      ? issueDecider
      : customerDecider) as unknown as Decider<unknown, never, DomainEvent>;

interface Recorded {
  stream: string;
  revision: number;
  /** An instant after the command was answered and before the next one was sent. */
  at: string;
  /** The command side's own state of the stream at that moment (its state cache, evolved as it appended). */
  state: unknown;
}

describe('GET /audit/streams/:stream/state', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await startLedger();
  });
  afterAll(() => h.close(true));

  it('replays, at every recorded instant and revision, the state the command side had then', async () => {
    const cache = h.app.get(AggregateStateCache);
    const recorded: Recorded[] = [];
    for (const command of randomWorkload(SEED, COMMANDS, `rp${SEED.toString(36)}-`)) {
      const res = await post(h, command.role, command.path, command.body);
      if (res.status !== 201) continue;
      const { stream, revision } = res.body as { stream: string; revision: number };
      const folded = await cache.load(h.eventStore, stream, deciderOf(stream));
      expect(folded.revision).toBe(revision);
      const at = new Date().toISOString();
      // The replay answers a charge's `disputeLossAmount` as `lostDisputeAmount` too, the name of GET /charges/:id.
      const state = structuredClone(folded.state) as Record<string, unknown>;
      if (typeof state.disputeLossAmount === 'number') state.lostDisputeAmount = state.disputeLossAmount;
      recorded.push({ stream, revision, at, state });
      // The next command is recorded in a later millisecond, so `at` separates the two.
      while (Date.now() <= Date.parse(at)) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(recorded.length).toBeGreaterThan(80);
    expect(new Set(recorded.map((r) => r.stream)).size).toBeGreaterThan(20);

    const mismatches: string[] = [];
    for (const { stream, revision, at, state } of recorded) {
      const asOf = await get(h, 'auditor', `/audit/streams/${stream}/state?asOf=${at}`);
      const byRevision = await get(h, 'auditor', `/audit/streams/${stream}/state?revision=${revision}`);
      for (const [name, res] of [
        ['asOf', asOf],
        ['revision', byRevision],
      ] as const) {
        if (res.status !== 200) mismatches.push(`${stream} ${name} -> ${res.status}`);
        else if (res.body.revision !== revision || JSON.stringify(res.body.state) !== JSON.stringify(state)) {
          mismatches.push(
            `${stream}@${revision} ${name}: ${JSON.stringify(res.body.state)} != ${JSON.stringify(state)}`,
          );
        }
      }
      expect(asOf.body.eventsApplied).toBe(revision + 1);
      expect(Date.parse(asOf.body.recordedAt)).toBeLessThanOrEqual(Date.parse(at));
    }
    expect(mismatches).toEqual([]);
  });

  it('answers the revision, position and times it stopped at, and a state before the first event', async () => {
    const ids = uniqueIds();
    const opened = await post(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'declined',
      channel: 'chat',
    }).then(expectCreated);
    const stream = `issue-${ids.issue}`;
    const [first] = await h.eventStore.readStream(stream);
    const state = await get(h, 'auditor', `/audit/streams/${stream}/state?revision=0`);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      stream,
      aggregate: 'issue',
      revision: 0,
      position: opened.body.position,
      recordedAt: first.metadata.recordedAt,
      occurredAt: first.metadata.occurredAt,
      beforeFirstEvent: false,
      eventsApplied: 1,
      headRevision: 0,
      at: { revision: 0 },
      state: { status: 'open', issueId: ids.issue, customerId: ids.customer },
    });
    const before = new Date(Date.parse(first.metadata.recordedAt) - 1).toISOString();
    const early = await get(h, 'auditor', `/audit/streams/${stream}/state?asOf=${before}`);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({
      beforeFirstEvent: true,
      state: { status: 'none' },
      revision: -1,
      position: null,
      recordedAt: null,
      eventsApplied: 0,
      headRevision: 0,
    });
    const head = await get(h, 'auditor', `/audit/streams/${stream}/state`);
    expect(head.body).toMatchObject({ revision: 0, at: { head: true } });
  });

  it('occurredAt answers by business time: back-dated facts included, later ones skipped', async () => {
    const ids = uniqueIds();
    const stream = `issue-${ids.issue}`;
    await post(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'declined',
      channel: 'chat',
      occurredAt: '2026-01-01T10:00:00.000Z',
    }).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/assign`, {
      agentId: 'ag-late',
      occurredAt: '2026-01-03T10:00:00.000Z',
    }).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/assign`, {
      agentId: 'ag-backdated',
      occurredAt: '2026-01-02T10:00:00.000Z',
    }).then(expectCreated);
    const business = await get(
      h,
      'auditor',
      `/audit/streams/${stream}/state?occurredAt=2026-01-02T12:00:00Z`,
    );
    expect(business.status).toBe(200);
    expect(business.body).toMatchObject({
      revision: 2,
      eventsApplied: 2,
      skippedRevisions: [1],
      occurredAt: '2026-01-02T10:00:00.000Z',
      state: { assigneeId: 'ag-backdated' },
      at: { occurredAt: '2026-01-02T12:00:00.000Z' },
    });
    const beforeAll = await get(
      h,
      'auditor',
      `/audit/streams/${stream}/state?occurredAt=2025-12-31T00:00:00Z`,
    );
    expect(beforeAll.body).toMatchObject({ beforeFirstEvent: true, eventsApplied: 0 });
    const known = await get(h, 'auditor', `/audit/streams/${stream}/state?revision=2`);
    expect(known.body.state).toMatchObject({ assigneeId: 'ag-backdated' });
    expect(known.body.skippedRevisions).toBeUndefined();
  });

  it('ledger replay answers the same offline', async () => {
    const ids = uniqueIds();
    await post(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'declined',
      channel: 'chat',
    }).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/assign`, { agentId: 'ag-cli' }).then(expectCreated);
    const stream = `issue-${ids.issue}`;
    for (const [query, flags] of [
      ['revision=0', ['--revision', '0']],
      [`asOf=${new Date().toISOString()}`, []],
      ['occurredAt=2000-01-01T00:00:00Z', ['--occurred-at', '2000-01-01T00:00:00Z']],
    ] as const) {
      const http = await get(h, 'auditor', `/audit/streams/${stream}/state?${query}`);
      const cli = await ledgerCli('replay', stream, ...flags, '--json', '--data-dir', h.dataDir);
      expect(cli.code).toBe(0);
      const { at: _at, ...answer } = http.body;
      expect(JSON.parse(cli.stdout)).toEqual(answer);
    }
    const text = await ledgerCli('replay', stream, '--data-dir', h.dataDir);
    expect(text.stdout).toContain(`${stream} at revision 1`);
    expect(text.stdout).toContain('"assigneeId": "ag-cli"');
    expect((await ledgerCli('replay', `issue-nope${ids.issue}`, '--data-dir', h.dataDir)).code).toBe(3);
    expect((await ledgerCli('replay', stream, '--revision', '9', '--data-dir', h.dataDir)).code).toBe(3);
    expect((await ledgerCli('replay', stream, '--as-of', 'soon', '--data-dir', h.dataDir)).code).toBe(2);
    expect((await ledgerCli('replay', 'accesslog-2026-01-01', '--data-dir', h.dataDir)).code).toBe(2);
  });

  it('refuses what it cannot answer with a clear 4xx', async () => {
    const ids = uniqueIds();
    await post(h, 'service', `/customers/${ids.customer}/churn`, { kind: 'voluntary' }).then(expectCreated);
    const stream = `customer-${ids.customer}`;
    const cases: Array<[string, number, string]> = [
      [`/audit/streams/issue-nope${ids.issue}/state`, 404, '/errors/stream-not-found'],
      [`/audit/streams/${stream}/state?revision=1`, 404, '/errors/revision-not-found'],
      [`/audit/streams/${stream}/state?revision=-1`, 400, '/errors/validation-failed'],
      [`/audit/streams/${stream}/state?revision=1.5`, 400, '/errors/validation-failed'],
      [`/audit/streams/${stream}/state?asOf=yesterday`, 400, '/errors/validation-failed'],
      [
        `/audit/streams/${stream}/state?asOf=2026-01-01T00:00:00Z&revision=0`,
        400,
        '/errors/validation-failed',
      ],
      [`/audit/streams/${stream}/state?when=now`, 400, '/errors/validation-failed'],
      [`/audit/streams/accesslog-2026-01-01/state`, 400, '/errors/validation-failed'],
      [`/audit/streams/bogus/state`, 400, '/errors/validation-failed'],
    ];
    for (const [path, status, type] of cases) {
      const res = await get(h, 'auditor', path);
      expect({ path, status: res.status, type: res.body.type }).toEqual({ path, status, type });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await get(h, 'auditor', `/audit/streams/${stream}/state?revision=0`)).body.state).toMatchObject({
      status: 'churned',
      kind: 'voluntary',
    });
    expect((await get(h, 'agent', `/audit/streams/${stream}/state`)).status).toBe(403);
  });
});
