import { join } from 'node:path';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, given, post, uniqueIds, type Ids } from '../support/http';
import { ledgerCli } from '../support/ledger-cli';
import { backupLedgerTables, restoreLedgerTables, Tamper } from '../support/tamper';

describe('GET /audit/verify and ledger verify over a tampered SQLite file', () => {
  let h: LedgerHarness;
  let file: string;
  let a: Ids;
  let b: Ids;
  beforeAll(async () => {
    h = await startLedger();
    file = join(h.dataDir, 'ledger.db');
    a = uniqueIds();
    b = uniqueIds();
    await given.charge(h, a);
    await given.issue(h, b);
    await given.approvedRefund(h, a);
    for (const text of ['first', 'second', 'third']) {
      await post(h, 'agent', `/issues/${b.issue}/notes`, { text }).then(expectCreated);
    }
    await post(h, 'agent', `/issues/${b.issue}/resolve`, { resolution: 'refunded' }).then(expectCreated);
    backupLedgerTables(file);
  });
  afterAll(() => h.close(true));
  afterEach(() => restoreLedgerTables(file));

  async function both(stream?: string) {
    const http = await get(h, 'auditor', `/audit/verify${stream ? `?stream=${stream}` : ''}`);
    expect(http.status).toBe(200);
    const cli = await ledgerCli(
      'verify',
      '--json',
      '--data-dir',
      h.dataDir,
      ...(stream ? ['--stream', stream] : []),
    );
    return { http: http.body, cli: { ...cli, report: JSON.parse(cli.stdout) } };
  }

  it('an intact ledger verifies: ok over HTTP, exit 0 from the CLI with events/s on stderr', async () => {
    const { http, cli } = await both();
    const domainEvents = (await h.allEvents()).filter((event) => !event.stream.startsWith('accesslog-'));
    expect(http).toMatchObject({ ok: true, scope: 'ledger', firstBroken: null, headsChecked: true });
    expect(http.checked).toBeGreaterThanOrEqual(domainEvents.length);
    expect(cli.code).toBe(0);
    expect(cli.report).toMatchObject({ ok: true, firstBroken: null });
    expect(cli.stderr).toMatch(/verified \d+ events at [\d,]+ events\/s/);
    const one = await both(`issue-${b.issue}`);
    expect(one.http).toMatchObject({ ok: true, scope: `issue-${b.issue}`, checked: 5 });
    expect(one.cli.report).toMatchObject({ ok: true, checked: 5 });
  });

  const cases: Array<{
    kind: string;
    tamper: (t: Tamper) => { stream: string; revision: number; position: number };
    reason: string;
  }> = [
    {
      kind: 'changed data',
      tamper: (t) => t.changeData(`charge-${a.charge}`, 0, (data) => (data.amount = 1)),
      reason: 'data-mismatch',
    },
    {
      kind: 'changed metadata',
      tamper: (t) =>
        t.changeMetadata(
          `issue-${b.issue}`,
          2,
          (metadata) => (metadata.occurredAt = '2020-01-01T00:00:00.000Z'),
        ),
      reason: 'metadata-mismatch',
    },
    {
      kind: 'canonical bytes no longer matching the columns',
      tamper: (t) => t.changeCanonical(`issue-${b.issue}`, 1, '"first"', '"FIRST"'),
      reason: 'canonical-changed',
    },
    {
      kind: 'removed event',
      tamper: (t) => t.remove(`issue-${b.issue}`, 2),
      reason: 'revision-gap',
    },
    {
      kind: 'removed last event (stream head beyond the events)',
      tamper: (t) => t.remove(`issue-${b.issue}`, 4),
      reason: 'stream-head-beyond-events',
    },
    {
      kind: 'reordered events',
      tamper: (t) => {
        const second = t.row(`issue-${b.issue}`, 2);
        t.swapPositions(t.row(`issue-${b.issue}`, 1), second);
        return { ...second, position: t.row(`issue-${b.issue}`, 2).position };
      },
      reason: 'revision-reordered',
    },
    {
      kind: 'inserted forged event',
      tamper: (t) => t.insert(`charge-${a.charge}`, { updateHead: true }),
      reason: 'prev-hash-mismatch',
    },
  ];

  it.each(cases.map((c) => [c.kind, c] as const))('%s: both name the exact event', async (_kind, c) => {
    const target = await Tamper.on(file, c.tamper);
    const expected = {
      stream: target.stream,
      revision: target.revision,
      position: String(target.position),
      reason: c.reason,
    };
    const { http, cli } = await both();
    expect(http.ok).toBe(false);
    expect(http.firstBroken).toMatchObject(expected);
    expect(cli.code).toBe(1);
    expect(cli.report.firstBroken).toMatchObject(expected);
    const scoped = await both(target.stream);
    expect(scoped.http.firstBroken).toMatchObject({ stream: target.stream, revision: target.revision });
    expect(scoped.cli.code).toBe(1);
  });

  it('names the break in plain text too, and refuses what it cannot run', async () => {
    await Tamper.on(file, (t) => t.changeData(`charge-${a.charge}`, 0, (data) => (data.amount = 1)));
    const text = await ledgerCli('verify', '--data-dir', h.dataDir);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('BROKEN: 1 break(s)');
    expect(text.stdout).toMatch(new RegExp(`data-mismatch +charge-${a.charge} revision 0 position \\d+`));
    expect((await ledgerCli('verify', '--stream', 'issue-nope', '--data-dir', h.dataDir)).code).toBe(3);
    expect((await ledgerCli('verify', '--data-dir', join(h.dataDir, 'missing'))).code).toBe(3);
    expect((await get(h, 'auditor', '/audit/verify?stream=bogus')).status).toBe(400);
    expect((await get(h, 'auditor', '/audit/verify?other=1')).status).toBe(400);
    expect((await get(h, 'analyst', '/audit/verify')).status).toBe(403);
  });
});
