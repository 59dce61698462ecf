// The `ledger` command: `npm run ledger -- <command> [options]`. Commands, flags and exit codes are in
// docs/cli.md; `ledger --help` prints the same.
import { runCli, type Command } from './cli';
import { demo } from './commands/demo';
import { events } from './commands/events';
import { keysCreate, keysList, keysRevoke } from './commands/keys';
import { rebuild } from './commands/rebuild';
import { verify } from './commands/verify';
import { replay } from './commands/replay';
import { digest } from './commands/digest';
import { migrate } from './commands/migrate';
import { exportBundle } from './commands/export';
import { verifyBundleCommand, verifyConsistencyCommand, verifyProof } from './commands/offline-verify';
import { publicKey } from './commands/public-key';
import { invocationDirs } from './invocation-dir';

const commands: Command[] = [
  keysCreate,
  keysList,
  keysRevoke,
  events,
  rebuild,
  verify,
  replay,
  digest,
  exportBundle,
  verifyProof,
  verifyBundleCommand,
  verifyConsistencyCommand,
  publicKey,
  migrate,
  demo,
];

runCli(process.argv.slice(2), commands, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  ...invocationDirs(process.env, process.cwd()),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ledger: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
