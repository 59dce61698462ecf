import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBundle } from '@app/ledger';
import { tellAsOfStory, type AsOfStory } from '../support/as-of-story';
import { expectCreated, post } from '../support/http';
import { runLedgerCli } from '../support/ledger-cli';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';

describe('ledger export --as-of | --occurred-at', () => {
  let h: LedgerHarness;
  let story: AsOfStory;
  beforeAll(async () => {
    h = await startLedger();
    story = await tellAsOfStory(h);
    await post(h, 'auditor', '/audit/digests').then(expectCreated);
  });
  afterAll(() => h.close(true));

  const exportTo = async (name: string, ...options: string[]) => {
    const out = join(h.dataDir, name);
    const run = await runLedgerCli(['export', ...options, '--out', out, '--data-dir', h.dataDir, '--json']);
    expect([run.code, run.stderr]).toEqual([0, expect.stringContaining(`to ${out}`)]);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const events = lines
      .slice(1)
      .map((line) => JSON.parse(line).event as { stream: string; revision: number });
    return {
      out,
      run,
      result: JSON.parse(run.stdout),
      header: JSON.parse(lines[0]),
      events: events.map((event) => `${event.stream}@${event.revision}`).sort(),
    };
  };

  it('--as-of: each stream as recorded by then; a charge linked later is not in the bundle', async () => {
    const { ids } = story;
    const bundle = await exportTo('as-of.jsonl', '--issue', ids.issue, '--as-of', story.t2);
    expect(bundle.header.selection).toEqual({ issueId: ids.issue, asOf: story.t2 });
    expect(bundle.events).toEqual(
      [`issue-${ids.issue}@0`, `charge-${ids.charge}@0`, `charge-${ids.charge}@1`].sort(),
    );
    expect(bundle.result).toMatchObject({
      events: 3,
      streams: [`charge-${ids.charge}`, `issue-${ids.issue}`],
      outsideCutOff: 0,
    });
    expect(await verifyBundle(readFileSync(bundle.out, 'utf8'))).toMatchObject({ ok: true, events: 3 });
    const before = await exportTo('before.jsonl', '--issue', ids.issue, '--as-of', story.t0);
    expect(before.events).toEqual([]);
  }, 60_000);

  it('--occurred-at: what had happened by then; a hole in a chain is closed and counted', async () => {
    const { ids, chargeB } = story;
    const mid = await exportTo(
      'occurred.jsonl',
      '--issue',
      ids.issue,
      '--occurred-at',
      '2026-01-16T00:00:00Z',
    );
    expect(mid.header.selection).toEqual({ issueId: ids.issue, occurredAt: '2026-01-16T00:00:00.000Z' });
    // The note (revision 2, dated 01-15) is in; the link of B (revision 1, dated 01-20) closes the chain
    // but B, linked after the instant, is not followed.
    expect(mid.events).toEqual(
      [
        `issue-${ids.issue}@0`,
        `issue-${ids.issue}@1`,
        `issue-${ids.issue}@2`,
        `charge-${ids.charge}@0`,
        `charge-${ids.charge}@1`,
      ].sort(),
    );
    expect(mid.result.outsideCutOff).toBe(1);
    expect(mid.run.stderr).toContain("1 event(s) outside the cut-off kept to close their stream's chain");
    expect(await verifyBundle(readFileSync(mid.out, 'utf8'))).toMatchObject({ ok: true });
    const linked = await exportTo(
      'linked.jsonl',
      '--issue',
      ids.issue,
      '--occurred-at',
      '2026-01-20T00:00:00Z',
    );
    expect(linked.events).toContain(`charge-${chargeB}@0`);
    expect(linked.result.outsideCutOff).toBe(0);
  }, 60_000);

  it('cuts a customer selection too, and logs the cut-off with the selection', async () => {
    const { ids, chargeB } = story;
    const bundle = await exportTo('customer.jsonl', '--customer', ids.customer, '--as-of', story.t1);
    expect(bundle.events).toEqual([`issue-${ids.issue}@0`, `charge-${ids.charge}@0`].sort());
    expect(JSON.stringify(bundle.events)).not.toContain(chargeB);
    const logged = (await h.allEvents()).filter(
      (event) => event.type === 'AccessRecorded' && event.data.route === 'ledger export',
    );
    expect(logged.map((event) => event.data.ids)).toContainEqual({
      customerId: ids.customer,
      asOf: story.t1,
    });
  }, 60_000);

  it('--recorded-from/--recorded-to name the range; a cut-off on a range or a bad instant is a usage error', async () => {
    const range = await exportTo('range.jsonl', '--recorded-from', story.t1, '--recorded-to', story.t2);
    expect(range.header.selection).toEqual({ recordedFrom: story.t1, recordedTo: story.t2 });
    expect(range.events).toEqual([`charge-${story.chargeB}@0`, `charge-${story.ids.charge}@1`].sort());
    for (const [options, message] of [
      [
        ['--from', story.t1, '--to', story.t2, '--as-of', story.t2],
        '--as-of applies to --issue and --customer',
      ],
      [['--issue', story.ids.issue, '--as-of', 'later'], '--as-of must be an ISO-8601 date-time'],
      [
        ['--issue', story.ids.issue, '--as-of', story.t1, '--occurred-at', story.t1],
        'not --as-of and --occurred-at',
      ],
      [['--from', story.t1, '--recorded-from', story.t1, '--to', story.t2], 'not both'],
    ] as const) {
      const run = await runLedgerCli([
        'export',
        ...options,
        '--out',
        join(h.dataDir, 'x.jsonl'),
        '--data-dir',
        h.dataDir,
      ]);
      expect({ options, code: run.code, message: run.stderr.includes(message) }).toEqual({
        options,
        code: 2,
        message: true,
      });
    }
  }, 60_000);
});
