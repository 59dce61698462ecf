import type { StoredEvent } from '@app/ledger';
import { SqliteEventStore } from '@app/event-store';
import { EXIT, NotFoundError, optionalInteger, type Command } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';

function describe(event: StoredEvent): string {
  const { actor, occurredAt } = event.metadata;
  return (
    `#${event.revision} ${event.type} v${event.schemaVersion}  position ${event.position}  ` +
    `occurred ${occurredAt}  by ${actor.kind}:${actor.id}${actor.agentId ? `/${actor.agentId}` : ''}\n` +
    `  data  ${JSON.stringify(event.data)}\n` +
    `  hash  ${event.metadata.hash} (prev ${event.metadata.prevHash})\n`
  );
}

export const events: Command = {
  path: ['events'],
  args: ['<stream>'],
  summary: 'Print the stored events of one stream, as stored (with hashes), oldest first.',
  options: { from: { type: 'string' }, limit: { type: 'string' } },
  optionHelp: [
    ['--from <revision>', 'first revision to print (default 0)'],
    ['--limit <n>', 'print at most n events (default: all)'],
  ],
  example: 'ledger events charge-ch_1001 --from 2 --limit 10 --json',
  async run({ globals, options, args, io }) {
    const [stream] = args;
    const fromRevision = optionalInteger(options, 'from') ?? 0;
    const maxCount = optionalInteger(options, 'limit');
    return withLedgerDb(globals.config, io, { create: false }, async (db) => {
      const store = new SqliteEventStore(db);
      try {
        const stored = await store.readStream(stream, { fromRevision, maxCount });
        if (stored.length === 0 && (await store.readStream(stream, { maxCount: 1 })).length === 0) {
          throw new NotFoundError(`No stream "${stream}".`);
        }
        if (globals.json) io.stdout(`${toJson(stored)}\n`);
        else for (const event of stored) io.stdout(describe(event));
        io.stderr(`${stored.length} event(s) of ${stream} from revision ${fromRevision}\n`);
        return EXIT.ok;
      } finally {
        await store.close();
      }
    });
  },
};
