import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openEventStoreDbEventStore, SqliteEventStore } from '@app/event-store';
import { embeddedLedgerFile, LEDGER_DB_FILE, ledgerFile } from '@app/runtime';
import {
  EXIT,
  NotFoundError,
  optionalInteger,
  requiredString,
  UsageError,
  type Command,
  type Io,
} from '../cli';
import { toJson } from '../ledger-db';
import { openLockedLedgerFile } from '../migrate/locked-ledger-file';
import {
  checkSource,
  Migration,
  type MigrationEndpoint,
  type MigrationPhase,
  type MigrationProgress,
  type MigrationReport,
} from '../migrate/migration';

const DEFAULT_BATCH_SIZE = 1000;
const MAX_BATCH_SIZE = 10_000;
const PROGRESS_INTERVAL_MS = 250;

type Target =
  { kind: 'embedded'; dataDir: string } | { kind: 'eventstoredb'; connectionString: string; dataDir: string };

/** Where a connection string points, without the user and password it may hold. */
function hostsOf(connectionString: string): string {
  const match = /^esdb(?:\+discover)?:\/\/(?:[^@/?]*@)?([^/?]*)/i.exec(connectionString);
  return `EventStoreDB at ${match?.[1] || 'an unreadable address'}`;
}

function parseTarget(to: string, toDataDir: string | undefined, cwd: string): Target {
  if (/^esdb(\+discover)?:\/\//i.test(to)) {
    if (!toDataDir) {
      throw new UsageError(
        '--to-data-dir is required with an EventStoreDB target: the target ledger keeps its API keys, ' +
          'signing key, digests, Merkle tree, idempotency records and read models in SQLite there.',
      );
    }
    return { kind: 'eventstoredb', connectionString: to, dataDir: resolve(cwd, toDataDir) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    throw new UsageError(
      `--to takes an esdb:// connection string or a directory, not "${to.split('://')[0]}://".`,
    );
  }
  if (toDataDir !== undefined) {
    throw new UsageError(
      '--to-data-dir is for an EventStoreDB target; a directory target is its own data dir.',
    );
  }
  return { kind: 'embedded', dataDir: resolve(cwd, to) };
}

const same = (a: string, b: string) => existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b);

function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return minutes >= 60
    ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`
    : `${minutes}:${String(whole % 60).padStart(2, '0')}`;
}

const PHASE_LABELS: Record<MigrationPhase, string> = {
  count: 'counting source events',
  events: 'importing events',
  compare: 'comparing events',
  tree: 'building the Merkle tree',
};

/** Progress on stderr: a line rewritten in place at most every 250 ms, a new line at each phase. */
function progressPrinter(io: Io): { report(progress: MigrationProgress): void; end(): void } {
  let last = 0;
  let phase: MigrationPhase | undefined;
  return {
    report(progress) {
      const now = Date.now();
      const finished = progress.done >= progress.total;
      if (progress.phase === phase && !finished && now - last < PROGRESS_INTERVAL_MS) return;
      if (phase !== undefined && progress.phase !== phase) io.stderr('\n');
      phase = progress.phase;
      last = now;
      const percent = progress.total > 0 ? ((100 * progress.done) / progress.total).toFixed(1) : '100.0';
      const eta = progress.rate > 0 ? formatDuration((progress.total - progress.done) / progress.rate) : '?';
      io.stderr(
        `\rmigrate: ${PHASE_LABELS[progress.phase]} ${progress.done.toLocaleString('en')} / ` +
          `${progress.total.toLocaleString('en')} (${percent}%)  ${Math.round(progress.rate).toLocaleString('en')} ` +
          `events/s  ETA ${eta}   `,
      );
    },
    end() {
      if (phase !== undefined) io.stderr('\n');
    },
  };
}

/** Files of the source's data directory other than the ledger file itself: not moved, named in the report. */
function otherFiles(dataDir: string): string[] {
  return readdirSync(dataDir).filter(
    (name) => name !== LEDGER_DB_FILE && !name.startsWith(`${LEDGER_DB_FILE}-`),
  );
}

function textReport(
  report: MigrationReport & { source: string; target: string; filesNotMoved: string[] },
): string {
  const { events, verified } = report;
  const lines = [
    `migrated ${events.total.toLocaleString('en')} events from ${report.source} to ${report.target}`,
    `  imported ${events.imported.toLocaleString('en')} in ${events.seconds} s (${events.eventsPerSecond.toLocaleString('en')} events/s)` +
      (events.resumedFrom > 0
        ? `, resuming after ${events.resumedFrom.toLocaleString('en')} already there`
        : ''),
    `  verified: ${verified.events.toLocaleString('en')} events equal in ledger order (stream, revision, id, hash, bytes); ` +
      `Merkle tree of ${verified.treeSize.toLocaleString('en')} leaves, root ${verified.rootHash ?? '(empty)'}; ` +
      `${verified.leavesComparedWithSource.toLocaleString('en')} leaves equal to the source's; ` +
      `${verified.digests} published digest${verified.digests === 1 ? '' : 's'} verify against it`,
    `  copied: ${report.copied.map((table) => `${table.table} ${table.rows}`).join(', ')}`,
    `  signing key: ${report.signingKey === 'LEDGER_SIGNING_KEY' ? 'LEDGER_SIGNING_KEY (set it for the target ledger too)' : report.signingKey}`,
    `  not moved: ${report.notMoved.join(', ')} (claims of requests in flight; the source was stopped)`,
    `  rebuilt at start: ${report.rebuiltAtStart.join('; ')}`,
  ];
  if (report.filesNotMoved.length > 0) {
    lines.push(`  left in the source's data directory, not moved: ${report.filesNotMoved.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export const migrate: Command = {
  path: ['migrate'],
  args: [],
  synopsis: '--to <dir | esdb://...>',
  summary: 'Move the ledger (stopped) to an empty embedded data directory or to EventStoreDB, hashes intact.',
  options: {
    to: { type: 'string' },
    'to-data-dir': { type: 'string' },
    'batch-size': { type: 'string' },
    'max-rate': { type: 'string' },
  },
  optionHelp: [
    ['--to <dir>', 'target data directory: an embedded ledger (its ledger.db), new or empty'],
    ['--to <esdb://...>', 'target EventStoreDB connection string: its ledger streams must not exist yet'],
    [
      '--to-data-dir <dir>',
      "with esdb://: the target's data directory for keys, digests, idempotency, read models",
    ],
    [
      '--batch-size <n>',
      `source events per import batch (default ${DEFAULT_BATCH_SIZE}, at most ${MAX_BATCH_SIZE})`,
    ],
    ['--max-rate <n>', 'import at most n events per second (a server shared with other work)'],
    ['', 'The source is the configured ledger (--data-dir / LEDGER_DATA_DIR, and the server of'],
    ['', 'EVENTSTORE_CONNECTION_STRING when set), stopped: its files are locked. Run again after'],
    ['', 'an interruption to resume. The target ledger rebuilds its read models at its first start.'],
    ['', 'See docs/migration.md.'],
  ],
  example: 'ledger migrate --data-dir ./data --to ./data-new --json > migrate.json',
  async run({ globals, options, io }) {
    const target = parseTarget(
      requiredString(options, 'to'),
      typeof options['to-data-dir'] === 'string' ? options['to-data-dir'] : undefined,
      io.cwd,
    );
    const batchSize = optionalInteger(options, 'batch-size') ?? DEFAULT_BATCH_SIZE;
    if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new UsageError(`--batch-size must be between 1 and ${MAX_BATCH_SIZE}, got ${batchSize}.`);
    }
    const maxRate = optionalInteger(options, 'max-rate');
    if (maxRate === 0) throw new UsageError('--max-rate must be at least 1.');
    // The source is the ledger the configuration selects: embedded, or EventStoreDB with the rest of the
    // ledger in the data directory. Another engine is refused here as in every command.
    const fromServer = globals.config.mongodbUri ? undefined : globals.config.eventStoreConnectionString;
    const sourceFile = fromServer ? ledgerFile(globals.config.dataDir) : embeddedLedgerFile(globals.config);
    if (
      fromServer &&
      target.kind === 'eventstoredb' &&
      hostsOf(fromServer) === hostsOf(target.connectionString)
    ) {
      throw new UsageError('The target is the server the ledger runs on: give another one.');
    }
    if (!existsSync(sourceFile)) {
      throw new NotFoundError(`No ledger database at ${sourceFile}; pass --data-dir or set LEDGER_DATA_DIR.`);
    }
    if (same(globals.config.dataDir, target.dataDir)) {
      throw new UsageError('The target is the source data directory: give another directory.');
    }

    const closers: (() => Promise<void> | void)[] = [];
    try {
      const sourceDb = openLockedLedgerFile(sourceFile, 'source', { create: false });
      closers.push(() => {
        sourceDb.close();
      });
      const sourceEvents = fromServer
        ? await openEventStoreDbEventStore(fromServer)
        : new SqliteEventStore(sourceDb);
      closers.push(() => sourceEvents.close());
      const source: MigrationEndpoint = {
        events: sourceEvents,
        db: sourceDb,
        engine: fromServer ? 'eventstoredb' : 'sqlite',
        name: fromServer ? `${hostsOf(fromServer)} (data directory ${globals.config.dataDir})` : sourceFile,
      };
      checkSource(sourceDb, globals.config.signingKey);
      const targetDb = openLockedLedgerFile(join(target.dataDir, LEDGER_DB_FILE), 'target', { create: true });
      closers.push(() => {
        targetDb.close();
      });
      const targetEvents =
        target.kind === 'embedded'
          ? new SqliteEventStore(targetDb)
          : await openEventStoreDbEventStore(target.connectionString);
      closers.push(() => targetEvents.close());
      const destination: MigrationEndpoint = {
        events: targetEvents,
        db: targetDb,
        engine: target.kind === 'embedded' ? 'sqlite' : 'eventstoredb',
        name:
          target.kind === 'embedded'
            ? join(target.dataDir, LEDGER_DB_FILE)
            : `${hostsOf(target.connectionString)} (data directory ${target.dataDir})`,
      };
      const progress = progressPrinter(io);
      let report: MigrationReport;
      try {
        report = await new Migration(source, destination, {
          batchSize,
          maxRate,
          signingKey: globals.config.signingKey,
          onProgress: (step) => progress.report(step),
        }).run();
      } finally {
        progress.end();
      }
      const full = {
        source: source.name,
        target: destination.name,
        ...report,
        filesNotMoved: otherFiles(globals.config.dataDir),
      };
      io.stdout(globals.json ? `${toJson(full)}\n` : textReport(full));
      return EXIT.ok;
    } finally {
      for (const close of closers.reverse()) await close();
    }
  },
};
