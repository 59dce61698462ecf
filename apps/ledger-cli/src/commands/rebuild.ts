import { SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, type RebuildProgress, type RebuildReport } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { EXIT, NotFoundError, type Command } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';

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
  args: ['<projection>'],
  summary: 'Rebuild a read model from the first event into fresh storage, then swap it in (or --compare).',
  options: { compare: { type: 'boolean' } },
  optionHelp: [
    [
      '--compare',
      'rebuild beside the live read model, compare every document at the same position, keep the live one; ' +
        'exit 1 on any difference (stop ledger-api first, or use POST /admin/projections/:name/rebuild?compare=true)',
    ],
  ],
  example: 'ledger rebuild issue-summary --compare',
  async run({ globals, options, args, io }) {
    const [name] = args;
    const known = ALL_PROJECTIONS.map((projection) => projection.name);
    if (!known.includes(name)) {
      throw new NotFoundError(`No projection "${name}"; known: ${known.join(', ')}.`);
    }
    return withLedgerDb(globals.dataDir, io, { create: false }, async (db) => {
      const eventStore = new SqliteEventStore(db);
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
        await eventStore.close();
        await store.close();
      }
    });
  },
};
