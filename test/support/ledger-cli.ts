import { execFile } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run ledger -- <args>` the way a user does, minus npm. */
export function ledgerCli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const { LEDGER_DATA_DIR: _ignored, ...env } = process.env;
    execFile(
      process.execPath,
      [join(repoRoot, 'scripts/ledger.mjs'), ...args],
      { cwd: repoRoot, env, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}
