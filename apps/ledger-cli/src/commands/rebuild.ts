import { ALL_PROJECTIONS, ProjectorHost, type RebuildProgress, type RebuildReport } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { defaultRebuildThreads, embeddedLedgerFile, rebuildAllInParallel } from '@app/runtime';
import { EXIT, NotFoundError, UsageError, type Command } from '../cli';
import { toJson, withLedgerEvents } from '../ledger-db';

const BAR_WIDTH = 30;

function progressLine(progress: RebuildProgress): string {
  const head = Number(progress.head);
  const done = head > 0 ? Math.min(1, Math.max(0, Number(progress.position)) / head) : 1;
  const filled = Math.round(done * BAR_WIDTH);
  return (
    `\r${progress.projection} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` +
    `${(done * 100).toFixed(0).padStart(3)}%  ${progress.applied.toLocaleString('en')} events  ` +
    `${progress.eventsPerSecond.toLocaleString('en')} events/s  ${progress.phase}   `
  );
}

function summary(report: RebuildReport): string {
  const lines = [
    `${report.projection}: ${report.applied.toLocaleString('en')} events in ${report.seconds.toFixed(1)} s ` +
      `(${Math.round(report.eventsPerSecond).toLocaleString('en')} events/s)`,
  ];
  if (report.comparison) {
    const { documents, differenceCount, differences } = report.comparison;
    lines.push(
      differenceCount === 0
        ? `compared ${documents.toLocaleString('en')} documents: rebuilt and live are equal`
        : `compared ${documents.toLocaleString('en')} documents: ${differenceCount} difference(s)`,
    );
    for (const difference of differences) {
      lines.push(`  ${difference.kind.padEnd(13)} ${difference.collection}/${difference.id}`);
    }
    lines.push('the live read model was left as it was (compare mode)');
  } else {
    lines.push('promoted: the rebuilt read model is now live');
  }
  return `${lines.join('\n')}\n`;
}

export const rebuild: Command = {
  path: ['rebuild'],
  args: ['<projection|all>'],
  summary: 'Rebuild a read model (or all) from the first event into fresh storage, then swap it in.',
  options: { compare: { type: 'boolean' }, threads: { type: 'string' } },
  optionHelp: [
    [
      '--threads <n>',
      'with all: worker threads sharing the projections out (default 2, or 1 on a one-core machine; 1 runs ' +
        'in this process, about a third slower, for a quarter less memory)',
    ],
    [
      '--compare',
      'rebuild beside the live read model, compare every document at the same position, keep the live one; ' +
        'exit 1 on any difference (stop ledger-api first, or use POST /admin/projections/:name/rebuild?compare=true)',
    ],
  ],
  example: 'ledger rebuild issue-summary --compare',
  async run({ globals, options, args, io }) {
    const [name] = args;
    if (name === 'all') return rebuildAll({ globals, options, args, io });
    if (options.threads !== undefined) throw new UsageError('--threads goes with `rebuild all` only.');
    const known = ALL_PROJECTIONS.map((projection) => projection.name);
    if (!known.includes(name)) {
      throw new NotFoundError(`No projection "${name}"; known: ${known.join(', ')} (or all).`);
    }
    // The events through the port: the file's own, or EventStoreDB's when EVENTSTORE_CONNECTION_STRING is set.
    return withLedgerEvents(globals.config, io, async (eventStore, db) => {
      const store = new SqliteReadModelStore(db);
      const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS);
      try {
        await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
        let last = 0;
        const report = await host.rebuild(name, {
          compare: options.compare === true,
          onProgress: (progress) => {
            const now = Date.now();
            if (now - last < 200 && progress.phase === 'rebuilding') return;
            last = now;
            io.stderr(progressLine(progress));
          },
        });
        io.stderr('\n');
        if (globals.json) io.stdout(`${toJson(report)}\n`);
        else io.stdout(summary(report));
        return report.comparison && report.comparison.differenceCount > 0 ? EXIT.failure : EXIT.ok;
      } finally {
        await store.close();
      }
    });
  },
};

/** `rebuild all`: every read model in one pass over the events per thread, each promoted when done. */
async function rebuildAll({ globals, options, io }: Parameters<Command['run']>[0]): Promise<number> {
  if (options.compare)
    throw new UsageError('--compare works on one projection: rebuild <projection> --compare');
  // The rebuild threads read the events from the SQLite file: on EventStoreDB it runs in this process.
  const onEventStoreDb = globals.config.eventStoreConnectionString !== undefined;
  const threads =
    options.threads === undefined ? (onEventStoreDb ? 1 : defaultRebuildThreads()) : Number(options.threads);
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 16)) {
    throw new UsageError(`--threads takes an integer from 1 to 16, not ${String(options.threads)}`);
  }
  if (onEventStoreDb && threads > 1) {
    throw new UsageError('With the events on EventStoreDB, `rebuild all` runs in one thread (--threads 1).');
  }
  // Opened first so that a missing ledger is refused with exit 3, as for one projection. The count of
  // events for the progress bar is the head position where positions are dense; unknown (0) elsewhere.
  const head = await withLedgerEvents(globals.config, io, async (events) =>
    events.densePositions ? Math.max(0, Number(await events.headPosition())) : 0,
  );
  let last = 0;
  const bar = (applied: number, eventsPerSecond: number) => {
    const done = head > 0 ? Math.min(1, applied / head) : 1;
    const filled = Math.round(done * BAR_WIDTH);
    io.stderr(
      `\rall [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  ` +
        `${applied.toLocaleString('en')} events  ${eventsPerSecond.toLocaleString('en')} events/s   `,
    );
  };
  const onProgress = (progress: { applied: number; eventsPerSecond: number }) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    bar(progress.applied, progress.eventsPerSecond);
  };
  const report =
    threads === 1
      ? await withLedgerEvents(globals.config, io, async (eventStore, db) => {
          const store = new SqliteReadModelStore(db);
          try {
            await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
            const done = await new ProjectorHost(eventStore, store, ALL_PROJECTIONS).rebuildAll(onProgress);
            return {
              ...done,
              groups: [ALL_PROJECTIONS.map((projection) => projection.name)],
              groupSeconds: [done.seconds],
            };
          } finally {
            await store.close();
          }
        })
      : await rebuildAllInParallel({ file: embeddedLedgerFile(globals.config), threads, onProgress });
  bar(report.applied, Math.round(report.eventsPerSecond));
  io.stderr('\n');
  // The process's peak resident memory: the rebuild's, its threads included (ru_maxrss is in KiB).
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  if (globals.json) io.stdout(`${toJson({ ...report, peakRssMb, promoted: true })}\n`);
  else {
    io.stdout(
      `all read models: ${report.applied.toLocaleString('en')} events in ${report.seconds.toFixed(1)} s ` +
        `(${Math.round(report.eventsPerSecond).toLocaleString('en')} events/s) in ${report.groups.length} ` +
        `thread(s): ${report.groups.map((group) => group.join(', ')).join(' | ')}, peak memory ${peakRssMb} MB\n` +
        'promoted: the rebuilt read models are now live\n',
    );
  }
  return EXIT.ok;
}
