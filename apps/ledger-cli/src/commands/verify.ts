import { existsSync } from 'node:fs';
import { SqliteDigestStore, SqliteVerificationSource } from '@app/event-store';
import {
  EventStoreVerificationSource,
  verifyLedger,
  type LedgerVerification,
  type VerificationProgress,
  type VerificationSource,
} from '@app/ledger';
import { embeddedLedgerFile, type LedgerConfig } from '@app/runtime';
import { EXIT, NotFoundError, type Command, type Io } from '../cli';
import { toJson, withLedgerEvents } from '../ledger-db';

const BAR_WIDTH = 30;

function progressLine({ checked, total, eventsPerSecond }: VerificationProgress): string {
  const done = total > 0 ? Math.min(1, checked / total) : 1;
  const filled = Math.round(done * BAR_WIDTH);
  return (
    `\rverify [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  ` +
    `${checked.toLocaleString('en')} events  ${eventsPerSecond.toLocaleString('en')} events/s   `
  );
}

function summary(report: LedgerVerification, scope: string): string {
  const head =
    `${scope}: ${report.checked.toLocaleString('en')} events in ${report.streams.toLocaleString('en')} stream(s) ` +
    `checked in ${report.seconds.toFixed(2)} s (${report.eventsPerSecond.toLocaleString('en')} events/s)` +
    (report.headsChecked ? ', stream heads checked' : '');
  if (report.ok) return `${head}\nok: every hash chain verifies\n`;
  const lines = [head, `BROKEN: ${report.breakCount} break(s); the first:`];
  for (const entry of report.breaks) {
    lines.push(
      `  ${entry.reason.padEnd(26)} ${entry.stream ?? '(unknown stream)'}` +
        `${entry.revision === null ? '' : ` revision ${entry.revision}`}` +
        `${entry.position === null ? '' : ` position ${entry.position}`}\n    ${entry.detail}`,
    );
  }
  if (report.breakCount > report.breaks.length) {
    lines.push(`  ... and ${report.breakCount - report.breaks.length} more`);
  }
  return `${lines.join('\n')}\n`;
}

export const verify: Command = {
  path: ['verify'],
  args: [],
  summary: 'Recompute every hash chain from the stored canonical bytes; exit 1 and name the first break.',
  options: { stream: { type: 'string' } },
  optionHelp: [
    ['--stream <name>', 'verify one stream only (default: the whole ledger and its stream heads)'],
  ],
  example: 'ledger verify --json > verification.json',
  async run({ globals, options, io }) {
    const stream = typeof options.stream === 'string' ? options.stream : undefined;
    const report = await withVerificationSource(globals.config, io, (source) => {
      let shown = false;
      return verifyLedger(source, {
        stream,
        onProgress: (progress) => {
          shown = true;
          io.stderr(progressLine(progress));
        },
      }).finally(() => {
        if (shown) io.stderr('\n');
      });
    });
    if (stream !== undefined && report.checked === 0 && report.ok) {
      throw new NotFoundError(`No stream "${stream}".`);
    }
    io.stderr(
      `verified ${report.checked.toLocaleString('en')} events at ${report.eventsPerSecond.toLocaleString('en')} events/s\n`,
    );
    if (globals.json) io.stdout(`${toJson({ scope: stream ?? 'ledger', ...report })}\n`);
    else io.stdout(summary(report, stream ?? 'ledger'));
    return report.ok ? EXIT.ok : EXIT.failure;
  },
};

/**
 * What the scan reads. Embedded: the file's own read-only connection, which also checks each stream's head
 * row. On EventStoreDB: the events through the port, the hash of each event's stored bytes recomputed, with
 * the Merkle tree's size in the data directory as the count for progress (the server's positions are no
 * count).
 */
async function withVerificationSource<T>(
  config: LedgerConfig,
  io: Io,
  use: (source: VerificationSource) => Promise<T>,
): Promise<T> {
  if (config.eventStoreConnectionString === undefined) {
    const file = embeddedLedgerFile(config);
    if (!existsSync(file)) {
      throw new NotFoundError(`No ledger database at ${file}; pass --data-dir or set LEDGER_DATA_DIR.`);
    }
    return use(new SqliteVerificationSource(file));
  }
  return withLedgerEvents(config, io, (events, db) => {
    const tree = new SqliteDigestStore(db);
    return use(
      new EventStoreVerificationSource(events, { countAll: async () => (await tree.head()).treeSize }),
    );
  });
}
