#!/usr/bin/env node
// `ledger-verify`: the standalone offline verifier (docs/offline-verification.md).
import { runVerifyCli } from '../src/node-cli';

runVerifyCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ledger-verify: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
