/**
 * Where the CLI resolves paths. `npm run ledger -- …` starts scripts/ledger.mjs in the project directory,
 * wherever the user typed it; npm passes the user's directory as INIT_CWD. Paths the user types (--out,
 * a bundle, --public-key, --data-dir) resolve there; LEDGER_DATA_DIR and the default ./data against the
 * project directory, as `npm start` resolves them, so the CLI opens the API's ledger from any directory.
 *
 * INIT_CWD counts only when npm started this script: npm sets it for every script and child process, so
 * a ledger command run by another npm script (a test under `npm test`) would otherwise inherit the
 * directory that script was started from.
 */
export function invocationDirs(
  env: NodeJS.ProcessEnv,
  processCwd: string,
): { cwd: string; configCwd: string } {
  const startedByNpm =
    typeof env.INIT_CWD === 'string' &&
    env.INIT_CWD !== '' &&
    /(^|[\s/])scripts\/ledger\.mjs(\s|$)/.test(env.npm_lifecycle_script ?? '');
  return { cwd: startedByNpm ? env.INIT_CWD! : processCwd, configCwd: processCwd };
}
