import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tellAsOfStory, type AsOfStory } from '../support/as-of-story';
import { expectCreated, get, post } from '../support/http';
import { runLedgerCli, runNpmLedger } from '../support/ledger-cli';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';

const repoRoot = join(__dirname, '..', '..');

/** What issue 20 found trying the auditor's task as a new user, each reproduced by a test below. */
describe('ledger CLI for auditors: the public key, paths from where the command runs, empty exports', () => {
  let h: LedgerHarness;
  let story: AsOfStory;
  beforeAll(async () => {
    h = await startLedger();
    story = await tellAsOfStory(h);
    await post(h, 'auditor', '/audit/digests').then(expectCreated);
  });
  afterAll(() => h.close(true));

  const fingerprintOf = (pem: string): string =>
    `sha256:${createHash('sha256')
      .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
      .digest('hex')}`;

  it('ledger public-key prints the PEM and its fingerprint; digests, bundles and verify results show it too', async () => {
    const served = (await get(h, 'auditor', '/audit/digest')).body;
    const fingerprint = fingerprintOf(served.publicKey);
    // The API's digest answers name the key by its fingerprint too.
    expect(served.publicKeyFingerprint).toBe(fingerprint);
    const listed = (await get(h, 'auditor', '/audit/digests')).body.items;
    expect(listed.map((digest: { publicKeyFingerprint: string }) => digest.publicKeyFingerprint)).toEqual(
      listed.map(() => fingerprint),
    );
    const text = await runLedgerCli(['public-key', '--data-dir', h.dataDir]);
    expect(text).toMatchObject({ code: 0, stdout: `${served.publicKey}fingerprint ${fingerprint}\n` });
    const json = await runLedgerCli(['public-key', '--json', '--data-dir', h.dataDir]);
    expect(JSON.parse(json.stdout)).toEqual({
      publicKey: served.publicKey,
      fingerprint,
      source: 'ledger.db',
    });

    const digest = await runLedgerCli(['digest', '--data-dir', h.dataDir]);
    expect(digest.stdout).toContain(`key       ${fingerprint}\n`);
    const digestJson = await runLedgerCli(['digest', '--json', '--data-dir', h.dataDir]);
    expect(JSON.parse(digestJson.stdout).publicKeyFingerprint).toBe(fingerprint);

    const out = join(h.dataDir, 'fingerprint.jsonl');
    const exported = await runLedgerCli([
      'export',
      '--issue',
      story.ids.issue,
      '--out',
      out,
      '--json',
      '--data-dir',
      h.dataDir,
    ]);
    expect(exported.stderr).toContain(`key ${fingerprint}`);
    expect(JSON.parse(exported.stdout).publicKeyFingerprint).toBe(fingerprint);
    expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0]).publicKeyFingerprint).toBe(fingerprint);

    // The printed key, saved as a file, is the key an auditor passes to the verifier.
    const keyFile = join(h.dataDir, 'ledger.pub.pem');
    writeFileSync(keyFile, text.stdout);
    const trusted = await runLedgerCli(['verify-bundle', out, '--public-key', keyFile]);
    expect(trusted).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`signed by the trusted key ${fingerprint}`),
    });
    const embedded = await runLedgerCli(['verify-bundle', out]);
    expect(embedded.stdout).toContain(`signed by the key it carries, ${fingerprint}`);
    const verified = await runLedgerCli(['verify-bundle', out, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, keyFingerprint: fingerprint });
  }, 120_000);

  it('npm run ledger resolves --out, a bundle and --data-dir against the directory it was run from', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ledger-user-'));
    const name = `bundle-${story.ids.issue}.jsonl`;
    try {
      const dataDir = relative(work, h.dataDir);
      const exported = await runNpmLedger(
        ['export', '--issue', story.ids.issue, '--out', name, '--data-dir', dataDir],
        work,
      );
      expect(exported.code).toBe(0);
      expect(exported.stdout.trim()).toBe(join(work, name));
      expect(existsSync(join(work, name))).toBe(true);
      expect(existsSync(join(repoRoot, name))).toBe(false);
      const verified = await runNpmLedger(['verify-bundle', name], work);
      expect(verified).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('ok: bundle verifies: 6 event(s)'),
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(join(repoRoot, name), { force: true });
    }
  }, 120_000);

  it('an export that selects no event exits 1 and writes nothing, unless --allow-empty', async () => {
    const out = join(h.dataDir, 'empty.jsonl');
    const range = ['--recorded-from', '2020-01-01T00:00:00Z', '--recorded-to', '2020-02-01T00:00:00Z'];
    const refused = await runLedgerCli(['export', ...range, '--out', out, '--data-dir', h.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the selection holds no event, nothing was written (pass --allow-empty');
    expect(refused.stderr).toContain('select by recorded time');
    expect(existsSync(out)).toBe(false);
    const allowed = await runLedgerCli([
      'export',
      ...range,
      '--allow-empty',
      '--out',
      out,
      '--data-dir',
      h.dataDir,
    ]);
    expect(allowed.code).toBe(0);
    const verified = await runLedgerCli(['verify-bundle', out]);
    expect(verified).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('note: the bundle holds no event; it proves nothing about any event'),
    });
  }, 120_000);
});
