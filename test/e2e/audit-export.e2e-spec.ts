import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBundle, type StoredEvent } from '@app/ledger';
import { runLedgerCli } from '../support/ledger-cli';
import { expectCreated, get, given, post, uniqueIds } from '../support/http';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { randomWorkload } from '../support/workload';

describe('ledger export -> ledger verify-bundle', () => {
  let h: LedgerHarness;
  const ids = uniqueIds();
  const second = { ...uniqueIds(), customer: ids.customer };
  let publicKeyFile: string;
  let startedAt: string;
  beforeAll(async () => {
    h = await startLedger();
    for (const command of randomWorkload(91, 30, 'ex-'))
      await post(h, command.role, command.path, command.body);
    startedAt = new Date().toISOString();
    await given.charge(h, ids);
    await given.refund(h, ids);
    await given.charge(h, second);
    await post(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'delayed_refund',
      channel: 'email',
      chargeIds: [ids.charge],
    }).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/charges`, { chargeId: second.charge }).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/resolve`, { resolution: 'refunded' }).then(expectCreated);
    await given.churned(h, ids);
    await post(h, 'auditor', '/audit/digests').then(expectCreated);
    publicKeyFile = join(h.dataDir, 'ledger.pub.pem');
    writeFileSync(publicKeyFile, (await get(h, 'auditor', '/audit/digest')).body.publicKey);
  });
  afterAll(() => h.close(true));

  const exportTo = async (name: string, ...selection: string[]) => {
    const out = join(h.dataDir, name);
    const run = await runLedgerCli(['export', ...selection, '--out', out, '--data-dir', h.dataDir, '--json']);
    expect([run.code, run.stderr]).toEqual([0, expect.stringContaining(`to ${out}`)]);
    return { out, result: JSON.parse(run.stdout), lines: readFileSync(out, 'utf8').trimEnd().split('\n') };
  };
  const streamsOf = (lines: string[]) => new Set(lines.slice(1).map((line) => JSON.parse(line).event.stream));

  it('exports an issue with its linked charges, and the bundle verifies with the trusted key', async () => {
    const { out, result, lines } = await exportTo('issue.jsonl', '--issue', ids.issue);
    const expected = [`issue-${ids.issue}`, `charge-${ids.charge}`, `charge-${second.charge}`];
    const stored: StoredEvent[] = [];
    for (const stream of expected) stored.push(...(await h.eventStore.readStream(stream)));
    expect(result).toMatchObject({ events: stored.length, streams: [...expected].sort() });
    expect(streamsOf(lines)).toEqual(new Set(expected));
    const header = JSON.parse(lines[0]);
    expect(header).toMatchObject({
      kind: 'ledger-evidence-bundle',
      version: 1,
      selection: { issueId: ids.issue },
    });
    expect(
      lines
        .slice(1)
        .map((line) => JSON.parse(line).event.metadata.eventId)
        .sort(),
    ).toEqual(stored.map((event) => event.metadata.eventId).sort());
    const logged = (await h.allEvents()).filter(
      (event) => event.type === 'AccessRecorded' && event.data.route === 'ledger export',
    );
    expect(logged.map((event) => event.data)).toEqual([
      expect.objectContaining({
        method: 'CLI',
        ids: { issueId: ids.issue },
        streams: [...expected].sort(),
        status: 200,
      }),
    ]);
    const run = await runLedgerCli(['verify-bundle', out, '--public-key', publicKeyFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^ok: bundle verifies: ${stored.length} event\\(s\\) .*trusted key`),
    );
  }, 60_000);

  it('exports a customer (their stream, issues and charges) and a recorded-time range', async () => {
    const customer = await exportTo('customer.jsonl', '--customer', ids.customer);
    expect(streamsOf(customer.lines)).toEqual(
      new Set([
        `customer-${ids.customer}`,
        `issue-${ids.issue}`,
        `charge-${ids.charge}`,
        `charge-${second.charge}`,
      ]),
    );
    expect(await verifyBundle(readFileSync(customer.out, 'utf8'))).toMatchObject({ ok: true });

    const range = await exportTo(
      'range.jsonl',
      '--from',
      startedAt,
      '--to',
      new Date(Date.now() + 60_000).toISOString(),
    );
    const recorded = range.lines.slice(1).map((line) => JSON.parse(line).event.metadata.recordedAt as string);
    expect(recorded.length).toBeGreaterThan(5);
    expect(recorded.every((at) => at >= startedAt)).toBe(true);
    // A range cuts streams anywhere: the chain check links the revisions the bundle holds.
    expect(await verifyBundle(readFileSync(range.out, 'utf8'))).toMatchObject({ ok: true });
  }, 60_000);

  it('names the line of a tampered, removed, reordered or duplicated event, and a wrong key', async () => {
    const { out, lines } = await exportTo('tamper.jsonl', '--issue', ids.issue);
    const write = (name: string, content: string[]) => {
      const path = join(h.dataDir, name);
      writeFileSync(path, `${content.join('\n')}\n`);
      return path;
    };
    const edit = (index: number, change: (line: Record<string, any>) => void) => {
      const copy = [...lines];
      const line = JSON.parse(copy[index]);
      change(line);
      copy[index] = JSON.stringify(line);
      return copy;
    };
    const chargeLine = lines.findIndex((line) => JSON.parse(line).event?.type === 'RefundRequested');
    expect(chargeLine).toBeGreaterThan(0);
    const withoutLine = (index: number) => lines.filter((_, i) => i !== index);

    const amount = await runLedgerCli([
      'verify-bundle',
      write(
        'amount.jsonl',
        edit(chargeLine, (line) => (line.event.data.amount += 1)),
      ),
    ]);
    expect(amount.code).toBe(1);
    expect(amount.stderr).toContain(`FAILS canonical-mismatch (line ${chargeLine + 1}`);

    const cases: Array<[string, string[], Record<string, unknown>]> = [
      [
        'proof',
        edit(chargeLine, (line) => line.proof.reverse()),
        { check: 'inclusion-failed', line: chargeLine + 1 },
      ],
      [
        'leaf',
        edit(chargeLine, (line) => (line.leafIndex += 1)),
        { check: 'inclusion-failed', line: chargeLine + 1 },
      ],
      ['removed', withoutLine(lines.length - 1), { check: 'truncated' }],
      ['duplicated', [...lines, lines[chargeLine]], { check: 'duplicate-event', line: lines.length + 1 }],
      [
        'header',
        edit(0, (header) => (header.digest.createdAt = '2020-01-01T00:00:00.000Z')),
        { check: 'signature-invalid' },
      ],
    ];
    for (const [name, content, failure] of cases) {
      const report = await verifyBundle(`${content.join('\n')}\n`);
      expect([name, report.ok, report.failure]).toEqual([name, false, expect.objectContaining(failure)]);
    }
    const middle = lines.findIndex((line) => {
      const { event } = JSON.parse(line);
      return event?.stream === `issue-${ids.issue}` && event.revision === 1;
    });
    // Even with the header's count fixed, the hole in the stream is named.
    const holed = withoutLine(middle);
    holed[0] = JSON.stringify({ ...JSON.parse(holed[0]), events: lines.length - 2 });
    const gap = await verifyBundle(`${holed.join('\n')}\n`);
    expect(gap.failure).toMatchObject({ check: 'chain-broken', revision: 2 });
    const headless = lines.filter((line, i) => i === 0 || JSON.parse(line).event.revision !== 0);
    headless[0] = JSON.stringify({ ...JSON.parse(headless[0]), events: headless.length - 1 });
    expect((await verifyBundle(`${headless.join('\n')}\n`)).failure).toMatchObject({
      check: 'chain-broken',
      revision: 1,
    });
    const wrongKey = await runLedgerCli([
      'verify-bundle',
      out,
      `--public-key=${(await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })}`,
    ]);
    expect(wrongKey).toMatchObject({ code: 1, stderr: expect.stringContaining('FAILS untrusted-key') });
    expect(
      (await runLedgerCli(['export', '--issue', 'nope', '--out', out, '--data-dir', h.dataDir])).code,
    ).toBe(3);
    expect((await runLedgerCli(['export', '--issue', ids.issue, '--customer', 'x', '--out', out])).code).toBe(
      2,
    );
  }, 90_000);
});
