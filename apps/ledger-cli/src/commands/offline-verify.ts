import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  BundleVerifier,
  describeReport,
  notJsonReport,
  verifyConsistencyDocument,
  verifyProofDocument,
  type OfflineReport,
} from '@payment-issue-ledger/verify';
import { nodeCrypto } from '@payment-issue-ledger/verify/node';
import { EXIT, NotFoundError, requiredString, type Command, type CommandContext } from '../cli';
import { toJson } from '../ledger-db';

// The checks and their wording are the verification package's, the same as the standalone
// `ledger-verify` an auditor installs on its own (docs/offline-verification.md).
const crypto = nodeCrypto();

function readFile(cwd: string, path: string, what: string): string {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new NotFoundError(`No ${what} at ${file}.`);
  return readFileSync(file, 'utf8');
}

/** --public-key: the PEM itself, or a file holding it. Absent: the key inside the proof or bundle. */
function trustedKey({ options, io }: CommandContext): string | undefined {
  const value = options['public-key'];
  if (typeof value !== 'string' || value === '') return undefined;
  return value.trimStart().startsWith('-----BEGIN') ? value : readFile(io.cwd, value, 'public key file');
}

function print(report: OfflineReport, what: string, { globals, io }: CommandContext): number {
  if (globals.json) io.stdout(`${toJson(report)}\n`);
  if (report.ok) {
    if (!globals.json) io.stdout(describeReport(report, what));
    return EXIT.ok;
  }
  io.stderr(`ledger: ${describeReport(report, what)}`);
  return EXIT.failure;
}

const publicKeyHelp: [string, string] = [
  '--public-key <pem|file>',
  'the ledger public key you trust (PEM text or a file; `ledger public-key` prints it); default: the key carried inside',
];

export const verifyProof: Command = {
  path: ['verify-proof'],
  args: [],
  synopsis: '--proof <file>',
  summary: 'Check an inclusion proof offline: event bytes -> hash -> leaf -> root -> digest signature.',
  options: { proof: { type: 'string' }, 'public-key': { type: 'string' } },
  optionHelp: [
    [
      '--proof <file>',
      'the proof answer as served by GET /audit/events/:id/proof, with the event under "event"',
    ],
    publicKeyHelp,
  ],
  example: 'ledger verify-proof --proof proof.json --public-key ledger.pub.pem',
  async run(context) {
    const path = requiredString(context.options, 'proof');
    const text = readFile(context.io.cwd, path, 'proof file');
    const key = trustedKey(context);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return print(notJsonReport(path), 'proof', context);
    }
    return print(await verifyProofDocument(crypto, document, key), 'proof', context);
  },
};

export const verifyBundleCommand: Command = {
  path: ['verify-bundle'],
  args: ['<bundle.jsonl>'],
  summary:
    'Check an evidence bundle offline: every event, its proof, the per-stream chains, the signature, ' +
    "and an --as-of bundle's completeness at its cut-off.",
  options: { 'public-key': { type: 'string' } },
  optionHelp: [publicKeyHelp],
  example: 'ledger verify-bundle issue-is_1.jsonl --public-key ledger.pub.pem',
  async run(context) {
    const file = resolve(context.io.cwd, context.args[0]);
    if (!existsSync(file)) throw new NotFoundError(`No bundle at ${file}.`);
    // Streamed line by line: a bundle may hold millions of events.
    const verifier = new BundleVerifier(crypto, trustedKey(context));
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) await verifier.push(line);
    return print(await verifier.finish(), 'bundle', context);
  },
};

export const verifyConsistencyCommand: Command = {
  path: ['verify-consistency'],
  args: [],
  synopsis: '--held <digest.json> --consistency <answer.json>',
  summary: 'Check offline that the ledger only appended since a digest you hold (a consistency answer).',
  options: { held: { type: 'string' }, consistency: { type: 'string' }, 'public-key': { type: 'string' } },
  optionHelp: [
    ['--held <file>', 'your own copy of the older signed digest (GET /audit/digest back then)'],
    ['--consistency <file>', 'the answer of GET /audit/consistency?from=<its treeSize>&to=<newer>'],
    publicKeyHelp,
  ],
  example: 'ledger verify-consistency --held digest-2026-01.json --consistency answer.json',
  async run(context) {
    const heldPath = requiredString(context.options, 'held');
    const answerPath = requiredString(context.options, 'consistency');
    const heldText = readFile(context.io.cwd, heldPath, 'digest file');
    const answerText = readFile(context.io.cwd, answerPath, 'consistency answer');
    const key = trustedKey(context);
    let held: unknown;
    let answer: unknown;
    try {
      held = JSON.parse(heldText);
    } catch {
      return print(notJsonReport(heldPath), 'consistency', context);
    }
    try {
      answer = JSON.parse(answerText);
    } catch {
      return print(notJsonReport(answerPath), 'consistency', context);
    }
    return print(await verifyConsistencyDocument(crypto, held, answer, key), 'consistency', context);
  },
};
