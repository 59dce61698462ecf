import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tellAsOfStory, type AsOfStory } from '../support/as-of-story';
import { expectCreated, post } from '../support/http';
import { runLedgerCli, type CliRun } from '../support/ledger-cli';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';

const repoRoot = join(__dirname, '..', '..');
const packageDir = join(repoRoot, 'packages/ledger-verify');

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}

/**
 * What a third party does: the package built on its own (`npm run build:verify`'s tsc, here into a temp
 * directory), copied with bundles the real `ledger export` wrote into a directory outside the repository,
 * and run there with plain node: no repository, no node_modules, no NODE_PATH.
 */
describe('ledger-verify, the standalone verifier, alone in a directory with a bundle', () => {
  let h: LedgerHarness;
  let story: AsOfStory;
  let alone: string;
  let fingerprint: string;

  const verify = (...args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => name !== 'NODE_PATH' && name !== 'NODE_OPTIONS'),
      ) as Record<string, string>;
      execFile(
        process.execPath,
        [join(alone, 'verify/dist/bin/ledger-verify.js'), ...args],
        { cwd: alone, env, encoding: 'utf8' },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    alone = mkdtempSync(join(tmpdir(), 'ledger-verify-alone-'));
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(packageDir, 'tsconfig.build.json'),
        '--outDir',
        join(alone, 'verify/dist'),
      ],
      { cwd: repoRoot, stdio: 'pipe' },
    );
    copyFileSync(join(packageDir, 'package.json'), join(alone, 'verify/package.json'));

    h = await startLedger();
    story = await tellAsOfStory(h);
    await post(h, 'auditor', '/audit/digests').then(expectCreated);
    const exportTo = async (name: string, ...options: string[]) => {
      const run = await runLedgerCli([
        'export',
        ...options,
        '--out',
        join(alone, name),
        '--data-dir',
        h.dataDir,
      ]);
      expect(run.code).toBe(0);
    };
    await exportTo('issue.jsonl', '--issue', story.ids.issue);
    await exportTo('issue-as-of-t2.jsonl', '--issue', story.ids.issue, '--as-of', story.t2);
    const lines = readFileSync(join(alone, 'issue.jsonl'), 'utf8').trimEnd().split('\n');
    const line = JSON.parse(lines[1]);
    line.event.data = { ...line.event.data, tampered: true };
    lines[1] = JSON.stringify(line);
    writeFileSync(join(alone, 'tampered.jsonl'), `${lines.join('\n')}\n`);
    const key = await runLedgerCli(['public-key', '--data-dir', h.dataDir]);
    writeFileSync(join(alone, 'ledger.pub.pem'), key.stdout);
    fingerprint = /fingerprint (sha256:[0-9a-f]{64})/.exec(key.stdout)![1];
  }, 120_000);

  afterAll(async () => {
    await h?.close(true);
    if (alone) rmSync(alone, { recursive: true, force: true });
  });

  it('holds only the built package, which needs nothing but node: builtins and its own files', () => {
    const files = filesUnder(alone);
    expect(files.filter((file) => !file.startsWith('verify/dist/'))).toEqual([
      'issue-as-of-t2.jsonl',
      'issue.jsonl',
      'ledger.pub.pem',
      'tampered.jsonl',
      'verify/package.json',
    ]);
    expect(files).toContain('verify/dist/bin/ledger-verify.js');
    const required = files
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) => [...readFileSync(join(alone, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)])
      .map((match) => match[1]);
    expect(required.filter((name) => !name.startsWith('.') && !name.startsWith('node:'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(alone, 'verify/package.json'), 'utf8'))).not.toHaveProperty(
      'dependencies',
    );
  });

  it('passes a good bundle, against the key it carries and against the key the auditor holds', async () => {
    const embedded = await verify('bundle', 'issue.jsonl');
    expect(embedded).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('ok: bundle verifies: 6 event(s)'),
    });
    const trusted = await verify('bundle', 'issue.jsonl', '--public-key', 'ledger.pub.pem');
    expect(trusted).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`signed by the trusted key ${fingerprint}`),
    });
    expect(await verify('fingerprint', 'ledger.pub.pem')).toMatchObject({
      code: 0,
      stdout: `${fingerprint}\n`,
    });
  });

  it('fails a tampered bundle, naming the check and the line', async () => {
    const run = await verify('bundle', 'tampered.jsonl', '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      failure: { check: 'canonical-mismatch', line: 2 },
    });
    expect(run.stderr).toContain('bundle FAILS canonical-mismatch (line 2');
  });

  it('proves an as-of bundle complete at its cut-off', async () => {
    const run = await verify('bundle', 'issue-as-of-t2.jsonl', '--public-key', 'ledger.pub.pem');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`complete as of ${story.t2}: the events are everything their streams held`);
    const report = JSON.parse((await verify('bundle', 'issue-as-of-t2.jsonl', '--json')).stdout);
    expect(report).toMatchObject({
      ok: true,
      events: 3,
      completeness: { complete: true, streamsWithNext: 1 },
    });
  });

  it('answers usage errors and missing files with exit codes 2 and 3', async () => {
    expect((await verify('bundle')).code).toBe(2);
    expect((await verify('bundle', 'absent.jsonl')).code).toBe(3);
    expect(await verify('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('ledger-verify bundle'),
    });
  });
});
