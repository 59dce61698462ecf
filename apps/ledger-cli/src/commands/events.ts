import { cutOffLabel, readStreamHistory, type StoredEvent } from '@app/ledger';
import { aliasedOption, EXIT, NotFoundError, optionalInteger, type Command } from '../cli';
import { toJson, withEventStore } from '../ledger-db';
import { CUT_OFF_HELP, CUT_OFF_OPTIONS, timeCutOffOption } from './cut-off-options';

function describe(event: StoredEvent): string {
  const { actor, occurredAt, recordedAt } = event.metadata;
  return (
    `#${event.revision} ${event.type} v${event.schemaVersion}  position ${event.position}  ` +
    `occurred ${occurredAt}  recorded ${recordedAt}  ` +
    `by ${actor.kind}:${actor.id}${actor.agentId ? `/${actor.agentId}` : ''}\n` +
    `  data  ${JSON.stringify(event.data)}\n` +
    `  hash  ${event.metadata.hash} (prev ${event.metadata.prevHash})\n`
  );
}

export const events: Command = {
  path: ['events'],
  args: ['<stream>'],
  summary: 'Print the stored events of one stream, as stored (with hashes), oldest first.',
  options: {
    'from-revision': { type: 'string' },
    from: { type: 'string' },
    'to-revision': { type: 'string' },
    limit: { type: 'string' },
    ...CUT_OFF_OPTIONS,
  },
  optionHelp: [
    ['--from-revision <n>', 'first revision to print (default 0); --from is the older name'],
    ['--to-revision <n>', 'last revision to print (the stream right after revision n)'],
    ['--limit <n>', 'print at most n events (default: all)'],
    ...CUT_OFF_HELP,
  ],
  example: 'ledger events charge-ch_1001 --as-of 2026-03-01T12:00:00Z --json',
  async run({ globals, options, args, io }) {
    const [stream] = args;
    const from = aliasedOption(options, 'from-revision', 'from');
    const fromRevision = optionalInteger({ [from.usedName]: from.value }, from.usedName) ?? 0;
    const cutOff = timeCutOffOption(options, ['to-revision']);
    const toRevision = optionalInteger(options, 'to-revision');
    let limit = optionalInteger(options, 'limit');
    if (toRevision !== undefined)
      limit = Math.min(limit ?? Infinity, Math.max(0, toRevision - fromRevision + 1));
    return withEventStore(globals.config, io, async (store) => {
      const { events: stored } =
        limit === 0
          ? { events: [] }
          : await readStreamHistory(store, stream, { fromRevision, limit, cutOff });
      if (stored.length === 0 && (await store.readStream(stream, { maxCount: 1 })).length === 0) {
        throw new NotFoundError(`No stream "${stream}".`);
      }
      if (globals.json) io.stdout(`${toJson(stored)}\n`);
      else for (const event of stored) io.stdout(describe(event));
      const at = cutOff ? ` as of ${JSON.stringify(cutOffLabel(cutOff))}` : '';
      io.stderr(`${stored.length} event(s) of ${stream} from revision ${fromRevision}${at}\n`);
      return EXIT.ok;
    });
  },
};
