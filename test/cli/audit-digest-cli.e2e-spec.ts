import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { checkDigestSignature, leafHash, rootOf, verifyBundle, type NewEvent } from '@app/ledger';
import { appendLedgerHistory } from '../../bench/support/ledger-history';
import { runLedgerCli } from '../support/ledger-cli';

describe('ledger digest', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-digest-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('builds the tree over an existing ledger and publishes one signed digest per tree size', async () => {
    const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
    const total = await appendLedgerHistory(store, 21, 500);
    const events = await store.readAll({});
    await store.close();
    const run = await runLedgerCli(['digest', '--json', '--data-dir', dataDir]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`merkle tree: ${total.toLocaleString('en')} leaves`);
    const digest = JSON.parse(run.stdout);
    expect(digest.treeSize).toBe(total);
    expect(digest.rootHash).toBe(
      rootOf(events.map((event) => leafHash(event.metadata.hash))).toString('hex'),
    );
    expect(await checkDigestSignature(digest)).toEqual({ ok: true });
    const again = await runLedgerCli(['digest', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(again.stdout)).toEqual(digest);
    const text = await runLedgerCli(['digest', '--data-dir', dataDir]);
    expect(text.stdout).toContain(`tree size ${total}\nroot      ${digest.rootHash}`);
  }, 60_000);

  it('refuses to sign with a new key where digests were signed with a configured one', async () => {
    const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
    await appendLedgerHistory(store, 22, 20);
    await store.close();
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = await runLedgerCli(['digest', '--json', '--data-dir', dataDir], {
      env: { LEDGER_SIGNING_KEY: key },
    });
    expect(signed.code).toBe(0);
    const unsigned = await runLedgerCli(['digest', '--data-dir', dataDir]);
    expect(unsigned).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('set LEDGER_SIGNING_KEY for the CLI'),
    });
    expect((await runLedgerCli(['digest', '--data-dir', join(dataDir, 'absent')])).code).toBe(3);
  }, 60_000);
});

describe('ledger export --from --to', () => {
  it('fills the holes a racing writer leaves in recordedAt order, so the bundle still verifies', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-export-'));
    try {
      const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
      const event = (n: number, recordedAt: string): NewEvent => ({
        type: 'NoteAdded',
        schemaVersion: 1,
        data: { issueId: 'is_race', text: `note ${n}` },
        metadata: {
          eventId: `00000000-0000-7000-8000-00000000000${n}`,
          occurredAt: recordedAt,
          recordedAt,
          actor: { kind: 'system', id: 'test' },
          correlationId: 'race',
          causationId: null,
          schemaVersion: 1,
        },
      });
      // Revision 1 was recorded last: a range up to just before it holds revisions 0 and 2 only.
      await store.append(
        'issue-is_race',
        [
          event(0, '2026-01-01T00:00:00.000Z'),
          event(1, '2026-01-01T00:00:09.000Z'),
          event(2, '2026-01-01T00:00:01.000Z'),
        ],
        'no_stream',
      );
      await store.close();
      const out = join(dataDir, 'range.jsonl');
      const run = await runLedgerCli([
        'export',
        '--from',
        '2026-01-01T00:00:00.000Z',
        '--to',
        '2026-01-01T00:00:05.000Z',
        '--out',
        out,
        '--data-dir',
        dataDir,
      ]);
      expect(run.code).toBe(0);
      const text = readFileSync(out, 'utf8');
      const revisions = text
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((line) => JSON.parse(line).event.revision);
      expect(revisions).toEqual([0, 1, 2]);
      expect(await verifyBundle(text)).toMatchObject({ ok: true, events: 3 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
