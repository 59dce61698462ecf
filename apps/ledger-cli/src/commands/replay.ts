import {
  replayableAggregateOf,
  replayStream,
  ReplayFailedError,
  RevisionNotFoundError,
  StreamNotFoundError,
  type ReplayPoint,
} from '@app/ledger';
import { EXIT, NotFoundError, optionalInteger, UsageError, type Command, type CommandContext } from '../cli';
import { toJson, withEventStore } from '../ledger-db';
import { instantOption } from './cut-off-options';

function pointOf(options: CommandContext['options']): ReplayPoint {
  const given = ['as-of', 'revision', 'occurred-at'].filter((name) => options[name] !== undefined);
  if (given.length > 1)
    throw new UsageError(`Give one of --as-of, --revision, --occurred-at, not ${given.join(' and ')}.`);
  if (options['as-of'] !== undefined) return { kind: 'asOf', at: instantOption('as-of', options['as-of']) };
  if (options['occurred-at'] !== undefined)
    return { kind: 'occurredAt', at: instantOption('occurred-at', options['occurred-at']) };
  const revision = optionalInteger(options, 'revision');
  return revision === undefined ? { kind: 'head' } : { kind: 'revision', revision };
}

export const replay: Command = {
  path: ['replay'],
  args: ['<stream>'],
  summary:
    "Rebuild a charge, issue or customer's state as of an instant or revision, with the command side's evolve.",
  options: { 'as-of': { type: 'string' }, revision: { type: 'string' }, 'occurred-at': { type: 'string' } },
  optionHelp: [
    ['--as-of <time>', 'what the ledger knew then: events recorded at or before the instant'],
    ['--revision <n>', 'the stream right after revision n'],
    ['--occurred-at <time>', 'business time: events that occurred at or before the instant'],
  ],
  example: 'ledger replay issue-is_1001 --as-of 2026-03-01T12:00:00Z --json',
  async run({ globals, options, args, io }) {
    const [stream] = args;
    if (!replayableAggregateOf(stream)) {
      throw new UsageError(`"${stream}" is not a charge-, issue- or customer- stream.`);
    }
    const point = pointOf(options);
    return withEventStore(globals.config, io, async (store) => {
      try {
        const result = await replayStream(store, stream, point);
        if (globals.json) io.stdout(`${toJson(result)}\n`);
        else {
          io.stdout(
            (result.beforeFirstEvent
              ? `${stream}: before its first event (initial state)\n`
              : `${stream} at revision ${result.revision} (position ${result.position}, recorded ` +
                `${result.recordedAt}, occurred ${result.occurredAt}); ${result.eventsApplied} event(s) applied ` +
                `of ${result.headRevision + 1}\n`) + `${JSON.stringify(result.state, null, 2)}\n`,
          );
        }
        return EXIT.ok;
      } catch (error) {
        if (error instanceof StreamNotFoundError) throw new NotFoundError(error.message);
        if (error instanceof RevisionNotFoundError) throw new NotFoundError(error.message);
        if (error instanceof ReplayFailedError) {
          io.stderr(`ledger: ${error.message}\n`);
          return EXIT.failure;
        }
        throw error;
      }
    });
  },
};
