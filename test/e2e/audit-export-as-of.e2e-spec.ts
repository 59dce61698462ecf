import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeReport, verifyBundle } from '@app/ledger';
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
    const parsed = lines
      .slice(1)
      .map((line) => JSON.parse(line) as { kind: string; event: { stream: string; revision: number } });
    const named = (kind: string) =>
      parsed
        .filter((line) => line.kind === kind)
        .map(({ event }) => `${event.stream}@${event.revision}`)
        .sort();
    return {
      out,
      lines,
      run,
      result: JSON.parse(run.stdout),
      header: JSON.parse(lines[0]),
      events: named('event'),
      /** As-of bundles: each stream's first event after the cut-off. */
      next: named('next'),
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
    const before = await exportTo('before.jsonl', '--issue', ids.issue, '--as-of', story.t0, '--allow-empty');
    expect(before.events).toEqual([]);
    // Nothing held, and the issue's first event proved to come after the instant: it did not exist then.
    expect(await verifyBundle(readFileSync(before.out, 'utf8'))).toMatchObject({
      ok: true,
      events: 0,
      completeness: { complete: true, streamsWithNext: 1 },
    });
  }, 60_000);

  it("--as-of proves completeness at the cut-off: a digest signed at or after it, a consistency proof to the latest, each stream's next event after it", async () => {
    const { ids } = story;
    // An earlier export's access-log entry grew the tree, so the latest digest is past the cut-off's.
    await exportTo('grow.jsonl', '--issue', ids.issue);
    const bundle = await exportTo('complete.jsonl', '--issue', ids.issue, '--as-of', story.t2);
    const { digest, completeness } = bundle.header;
    expect(Date.parse(digest.createdAt)).toBeGreaterThanOrEqual(Date.parse(story.t2));
    expect(completeness).toMatchObject({ asOf: story.t2, next: 1 });
    expect(completeness.latest.treeSize).toBeGreaterThan(digest.treeSize);
    expect(completeness.consistency.length).toBeGreaterThan(0);
    expect(bundle.header.publicKeyFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The issue's link of charge B came after the instant; charge A has nothing after its refund.
    expect(bundle.next).toEqual([`issue-${ids.issue}@1`]);
    const text = readFileSync(bundle.out, 'utf8');
    const report = await verifyBundle(text);
    expect(report).toMatchObject({
      ok: true,
      events: 3,
      completeness: {
        asOf: story.t2,
        complete: true,
        provedAsOf: story.t2,
        streamsWithNext: 1,
        cutOffDigest: { treeSize: digest.treeSize },
        latest: { treeSize: completeness.latest.treeSize },
      },
    });
    expect(describeReport(report, 'bundle')).toContain(`complete as of ${story.t2}`);

    const header = (change: (header: any) => void) => {
      const lines = [...bundle.lines];
      const parsed = JSON.parse(lines[0]);
      change(parsed);
      lines[0] = JSON.stringify(parsed);
      return `${lines.join('\n')}\n`;
    };
    const without = (drop: (line: any) => boolean, change: (header: any) => void) => {
      const kept = bundle.lines.filter((line, i) => i === 0 || !drop(JSON.parse(line)));
      const parsed = JSON.parse(kept[0]);
      change(parsed);
      kept[0] = JSON.stringify(parsed);
      return `${kept.join('\n')}\n`;
    };
    const failure = async (text: string) => (await verifyBundle(text)).failure;
    // The issue's only held event removed: its next event no longer follows what the bundle holds.
    expect(
      await failure(
        without(
          (line) => line.kind === 'event' && line.event.stream === `issue-${ids.issue}`,
          (parsed) => (parsed.events -= 1),
        ),
      ),
    ).toMatchObject({ check: 'chain-broken', stream: `issue-${ids.issue}`, revision: 1 });
    // The next line dropped: the header's count says so.
    expect(
      await failure(
        without(
          (line) => line.kind === 'next',
          () => undefined,
        ),
      ),
    ).toMatchObject({ check: 'truncated' });
    // A consistency proof that does not lead to the latest root.
    expect(
      await failure(header((parsed) => (parsed.completeness.consistency[0] = '0'.repeat(64)))),
    ).toMatchObject({ check: 'consistency-failed' });
    // The latest digest re-dated: its signature no longer holds.
    expect(
      await failure(header((parsed) => (parsed.completeness.latest.createdAt = new Date().toISOString()))),
    ).toMatchObject({ check: 'signature-invalid' });

    // A bundle as of t1 relabelled as of t2: the refund on charge A, recorded by t2 and inside the
    // cut-off digest's tree, is only its "next" event, so the bundle is not everything at t2.
    const early = await exportTo('early.jsonl', '--issue', ids.issue, '--as-of', story.t1);
    expect(early.next).toEqual([`charge-${ids.charge}@1`, `issue-${ids.issue}@1`].sort());
    const relabelled = [...early.lines];
    const parsed = JSON.parse(relabelled[0]);
    parsed.selection.asOf = story.t2;
    parsed.completeness.asOf = story.t2;
    relabelled[0] = JSON.stringify(parsed);
    expect(await failure(`${relabelled.join('\n')}\n`)).toMatchObject({
      check: 'incomplete',
      stream: `charge-${ids.charge}`,
      revision: 1,
    });
    // An event recorded after the cut-off among the held ones.
    const late = [...bundle.lines];
    const lateHeader = JSON.parse(late[0]);
    lateHeader.selection.asOf = story.t1;
    lateHeader.completeness.asOf = story.t1;
    late[0] = JSON.stringify(lateHeader);
    expect(await failure(`${late.join('\n')}\n`)).toMatchObject({ check: 'outside-cut-off' });
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
