import { execFile } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run ledger -- <args>` as a user does (minus npm), without the caller's LEDGER_* variables. */
export function runLedgerCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return new Promise<CliRun>((resolve) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('LEDGER_')),
    ) as Record<string, string>;
    execFile(
      process.execPath,
      [join(repoRoot, 'scripts/ledger.mjs'), ...args],
      { cwd: options.cwd ?? repoRoot, env: { ...env, ...options.env }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** runLedgerCli with the arguments spread and no options. */
export const ledgerCli = (...args: string[]): Promise<CliRun> => runLedgerCli(args);

/**
 * Runs `npm --prefix <repo> run ledger -- <args>` from `cwd`, as a user in another directory does: npm runs
 * the script in the repository and tells it the user's directory in INIT_CWD.
 */
export function runNpmLedger(args: string[], cwd: string): Promise<CliRun> {
  return new Promise<CliRun>((resolve) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith('LEDGER_') && !/^(npm_|INIT_CWD$)/.test(name),
      ),
    ) as Record<string, string>;
    execFile(
      'npm',
      ['--prefix', repoRoot, 'run', '--silent', 'ledger', '--', ...args],
      { cwd, env, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
