import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { BundleVerifier } from './bundle';
import { keyFingerprint } from './digest';
import { nodeCrypto } from './node-crypto';
import { verifyConsistencyDocument, verifyProofDocument } from './proof';
import { describeReport, notJsonReport, type OfflineReport } from './report';

/** The `ledger-verify` command; exit codes as the ledger CLI's (docs/cli.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

export interface VerifyIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Where relative paths resolve. */
  cwd: string;
}

const HELP = `ledger-verify: check the payment-issue ledger's evidence offline, with no server and no database.

Usage:
  ledger-verify bundle <bundle.jsonl> [--public-key <pem|file>] [--json]
  ledger-verify proof <proof.json> [--public-key <pem|file>] [--json]
  ledger-verify consistency --held <digest.json> --consistency <answer.json> [--public-key <pem|file>] [--json]
  ledger-verify fingerprint <public-key.pem>

  bundle       an evidence bundle (ledger export): every event, its proof, the chains, the signature;
               an --as-of bundle also its completeness at the cut-off
  proof        an inclusion proof file (GET /audit/events/:id/proof plus the event under "event")
  consistency  your own copy of an older digest against GET /audit/consistency's answer
  fingerprint  the sha256: fingerprint of a public key, to compare with \`ledger public-key\`

Options:
  --public-key <pem|file>  the ledger's public key you obtained out of band (PEM text or a file);
                           default: the key the evidence carries, which proves integrity only relative to it
  --json                   the report as JSON on stdout

Exit codes: 0 verified, 1 verification failed, 2 usage error, 3 file not found.
`;

class UsageError extends Error {}
class NotFoundError extends Error {}

function readText(cwd: string, path: string, what: string): string {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new NotFoundError(`No ${what} at ${file}.`);
  return readFileSync(file, 'utf8');
}

function json(cwd: string, path: string, what: string): unknown {
  const text = readText(cwd, path, what);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function runVerifyCli(argv: string[], io: VerifyIo): Promise<number> {
  const crypto = nodeCrypto();
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          'public-key': { type: 'string' },
          held: { type: 'string' },
          consistency: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    const [command, ...args] = positionals;
    if (values.help || command === 'help') {
      io.stdout(HELP);
      return EXIT.ok;
    }
    const keyOption = values['public-key'];
    const trusted =
      keyOption === undefined || keyOption === ''
        ? undefined
        : keyOption.trimStart().startsWith('-----BEGIN')
          ? keyOption
          : readText(io.cwd, keyOption, 'public key file');
    const one = (what: string): string => {
      if (args.length !== 1) throw new UsageError(`"ledger-verify ${command}" takes one ${what}.`);
      return args[0];
    };
    let report: OfflineReport;
    switch (command) {
      case 'bundle': {
        const file = resolve(io.cwd, one('bundle file'));
        if (!existsSync(file)) throw new NotFoundError(`No bundle at ${file}.`);
        // Streamed line by line: a bundle may hold millions of events.
        const verifier = new BundleVerifier(crypto, trusted);
        const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) await verifier.push(line);
        report = await verifier.finish();
        break;
      }
      case 'proof': {
        const path = one('proof file');
        const document = json(io.cwd, path, 'proof file');
        report =
          document === undefined ? notJsonReport(path) : await verifyProofDocument(crypto, document, trusted);
        break;
      }
      case 'consistency': {
        if (args.length > 0 || !values.held || !values.consistency) {
          throw new UsageError(
            '"ledger-verify consistency" takes --held <digest.json> --consistency <answer.json>.',
          );
        }
        const held = json(io.cwd, values.held, 'digest file');
        const answer = json(io.cwd, values.consistency, 'consistency answer');
        report =
          held === undefined
            ? notJsonReport(values.held)
            : answer === undefined
              ? notJsonReport(values.consistency)
              : await verifyConsistencyDocument(crypto, held, answer, trusted);
        break;
      }
      case 'fingerprint': {
        const pem = readText(io.cwd, one('public key file'), 'public key file');
        let fingerprint: string;
        try {
          fingerprint = await keyFingerprint(crypto, pem);
        } catch (error) {
          io.stderr(`ledger-verify: ${(error as Error).message}\n`);
          return EXIT.failure;
        }
        io.stdout(values.json ? `${JSON.stringify({ fingerprint })}\n` : `${fingerprint}\n`);
        return EXIT.ok;
      }
      case undefined:
        throw new UsageError('No command given.');
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
    const what = command === 'bundle' ? 'bundle' : command;
    if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else if (report.ok) io.stdout(describeReport(report, what));
    if (!report.ok) io.stderr(`ledger-verify: ${describeReport(report, what)}`);
    return report.ok ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`ledger-verify: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    if (error instanceof NotFoundError) {
      io.stderr(`ledger-verify: ${error.message}\n`);
      return EXIT.notFound;
    }
    throw error;
  }
}
