import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDataDir } from '../support/ledger-harness';

const ROOT = join(__dirname, '../..');
/** Issue 18: an unreachable EventStoreDB fails `npm start` within 10 s. */
const START_BOUND_MS = 10_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** `npm start`'s entry point (node scripts/start.mjs); killed if it has not exited within the bound. */
function startAndWaitForExit(env: NodeJS.ProcessEnv): Promise<Exit> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), START_BOUND_MS);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(bound);
      resolve({ code, signal, stderr });
    }),
  );
}

describe('npm start with EVENTSTORE_CONNECTION_STRING set to a server that is not there', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits non-zero on its own, naming EventStoreDB and the host, never the password', async () => {
    const exit = await startAndWaitForExit({
      EVENTSTORE_CONNECTION_STRING: 'esdb://ledger:hunter2@127.0.0.1:9?tls=false',
      LEDGER_DATA_DIR: dataDir,
    });
    // Not killed by the bound: it exited by itself, with a failure.
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain('ledger-api failed to start: EventStoreDB at 127.0.0.1:9');
    expect(exit.stderr).toContain('EVENTSTORE_CONNECTION_STRING');
    expect(exit.stderr).not.toContain('hunter2');
    // A message, not a stack trace; and nothing was created in the data directory.
    expect(exit.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });

  it('fails the same way on the plain esdb://127.0.0.1:9?tls=false', async () => {
    const exit = await startAndWaitForExit({
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:9?tls=false',
      LEDGER_DATA_DIR: dataDir,
    });
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      /EventStoreDB at 127\.0\.0\.1:9 \(EVENTSTORE_CONNECTION_STRING\) is unreachable/,
    );
  });
});
