import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  matchesShownOutput,
  parseTaskPage,
  runTaskPage,
  type BlockResult,
  type SessionResult,
} from './task-page';

const repoRoot = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

const PAGES = ['internal-service', 'auditor', 'analyst'] as const;

interface RunningLedger {
  url: string;
  child: ChildProcess;
}

/** What `npm start` runs, on a free port and a new data directory; resolves once it listens and made its admin key. */
function startLedger(dataDir: string): Promise<RunningLedger> {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/start.mjs')], {
    cwd: repoRoot,
    env: { ...userEnv(), PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /Ledger listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      // The first start also makes the admin key, which the pages list: wait for it to be printed too.
      if (match && /pil_\w/.test(out)) {
        clearTimeout(timer);
        resolve({ url: match[1], child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${out}`));
    });
  });
}

function stopLedger(ledger: RunningLedger | undefined): Promise<void> {
  if (!ledger || ledger.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    ledger.child.once('exit', () => resolve());
    ledger.child.kill('SIGTERM');
  });
}

/** The environment of a user's shell: none of the test run's LEDGER_*, npm or Node settings. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(LEDGER_|npm_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false' };
}

/**
 * A directory that is the checkout to npm (its files linked in) but whose own files are new, so that what
 * a page writes (bundles, keys, the unpacked verifier) lands in a temp directory and not in the repository.
 */
function scratchCheckout(root: string): string {
  const dir = join(root, 'checkout');
  const skip = new Set(['.git', 'data', 'dist', 'coverage']);
  mkdirSync(dir);
  for (const entry of readdirSync(repoRoot)) {
    if (!skip.has(entry)) symlinkSync(join(repoRoot, entry), join(dir, entry));
  }
  return dir;
}

/** The pages are written for a shell with curl and jq; a machine without them fails here, saying so. */
function requireTools(): void {
  const missing = ['bash', 'curl', 'jq', 'tar'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length > 0) {
    throw new Error(`the task pages need ${missing.join(', ')} on PATH, as their readers do`);
  }
}

describe('the task pages: conventions of the docs test', () => {
  it('reads … as any text within a line, and a line of … as any lines', () => {
    expect(matchesShownOutput('{"position":"…"}', '{"position":"42"}')).toBe(true);
    expect(matchesShownOutput('{"position":"…"}', '{"position":"42"}\nmore')).toBe(false);
    expect(matchesShownOutput('a\n…\nz', 'a\nb\nc\nz')).toBe(true);
    expect(matchesShownOutput('a\n…\nz', 'a\nz')).toBe(true);
    expect(matchesShownOutput('ok: 3 event(s)', 'ok: 4 event(s)')).toBe(false);
    expect(matchesShownOutput('x …', 'x a\ny')).toBe(false);
  });

  it('runs sh blocks unless marked not run with a reason, and pairs a text block with the block before', () => {
    const page = [
      '<!-- not run: the test starts it -->',
      '```sh',
      'npm start',
      '```',
      '```sh',
      'echo hi',
      '```',
      '',
      '```text',
      'hi',
      '```',
      '<!-- exits 1 -->',
      '```sh',
      'false',
      '```',
    ].join('\n');
    expect(parseTaskPage(page)).toEqual([
      expect.objectContaining({ run: false, skipReason: 'the test starts it', script: 'npm start' }),
      expect.objectContaining({ run: true, script: 'echo hi', expectedOutput: 'hi', expectedExit: 0 }),
      expect.objectContaining({ run: true, script: 'false', expectedOutput: null, expectedExit: 1 }),
    ]);
    expect(() => parseTaskPage('<!-- not run -->\n```sh\nx\n```')).toThrow(/needs its reason/);
  });
});

describe('docs/README.md, the opening page', () => {
  it('links one task page per user, and the README links it', () => {
    const index = read('docs/README.md');
    for (const page of PAGES) {
      expect(index).toContain(`](tasks/${page}.md)`);
      expect(existsSync(join(repoRoot, `docs/tasks/${page}.md`))).toBe(true);
    }
    expect(read('README.md')).toContain('](docs/README.md)');
  });
});

describe.each(PAGES)('docs/tasks/%s.md, walked as a new user would', (page) => {
  const blocks = parseTaskPage(read(`docs/tasks/${page}.md`));
  let root: string;
  let ledger: RunningLedger | undefined;
  let session: SessionResult;

  beforeAll(async () => {
    requireTools();
    root = mkdtempSync(join(tmpdir(), `task-page-${page}-`));
    const dataDir = join(root, 'data');
    ledger = await startLedger(dataDir);
    session = await runTaskPage(blocks, {
      cwd: scratchCheckout(root),
      env: { ...userEnv(), LEDGER_DATA_DIR: dataDir, LEDGER_URL: ledger.url },
    });
  }, 120_000);

  afterAll(async () => {
    await stopLedger(ledger);
    rmSync(root, { recursive: true, force: true });
  });

  const resultOf = (line: number): BlockResult => {
    const result = session.results.find((candidate) => candidate.block.line === line);
    if (!result) throw new Error(`no result for the block at line ${line}`);
    return result;
  };
  const describeRun = (result: BlockResult): string =>
    `block at line ${result.block.line}:\n${result.block.script}\n--- stdout:\n${result.stdout}\n--- stderr of the session:\n${session.stderr.slice(-4000)}`;

  it('has commands to run and outputs to check', () => {
    expect(blocks.filter((block) => block.run).length).toBeGreaterThanOrEqual(5);
    expect(blocks.filter((block) => block.expectedOutput !== null).length).toBeGreaterThanOrEqual(4);
  });

  it.each(blocks.filter((block) => block.run).map((block) => [block.line, block] as const))(
    'the block at line %i runs and prints what the page shows',
    (line, block) => {
      const result = resultOf(line);
      if (result.status !== block.expectedExit)
        throw new Error(`status ${result.status}, ${describeRun(result)}`);
      if (block.expectedOutput !== null && !matchesShownOutput(block.expectedOutput, result.stdout)) {
        throw new Error(
          `printed something else than the page shows:\n${block.expectedOutput}\n${describeRun(result)}`,
        );
      }
    },
  );
});
