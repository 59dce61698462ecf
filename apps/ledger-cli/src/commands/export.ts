import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import {
  appendAccessEntries,
  bundleEventLine,
  bundleHeaderLine,
  storedInclusionProof,
  systemClock,
  uuidv7Generator,
  type BundleSelection,
  type StoredEvent,
} from '@app/ledger';
import { EXIT, NotFoundError, requiredString, UsageError, type Command, type CommandContext } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';
import { openLedgerTree, type LedgerTree } from './ledger-tree';

const SCAN_BATCH = 5000;

/** Every event in global order, one batch at a time; the export's selections that need a scan use it. */
async function scan(ledger: LedgerTree, visit: (event: StoredEvent) => void, progress: (n: number) => void) {
  let from: bigint | undefined;
  let seen = 0;
  for (;;) {
    const batch = await ledger.events.readAll({ fromPosition: from, maxCount: SCAN_BATCH });
    if (batch.length === 0) return;
    batch.forEach(visit);
    seen += batch.length;
    progress(seen);
    from = batch[batch.length - 1].position + 1n;
  }
}

async function readStreams(ledger: LedgerTree, streams: Iterable<string>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (const stream of streams) events.push(...(await ledger.events.readStream(stream)));
  return events;
}

function linkedCharges(events: readonly StoredEvent[]): string[] {
  const charges = new Set<string>();
  for (const event of events) {
    if (event.type === 'IssueOpened' && Array.isArray(event.data.chargeIds)) {
      for (const id of event.data.chargeIds) if (typeof id === 'string') charges.add(`charge-${id}`);
    }
    if (event.type === 'ChargeLinked' && typeof event.data.chargeId === 'string') {
      charges.add(`charge-${event.data.chargeId}`);
    }
  }
  return [...charges];
}

function instant(name: string, value: string): number {
  const at = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at)) {
    throw new UsageError(`--${name} must be an ISO-8601 date-time, got "${value}".`);
  }
  return at;
}

function selectionOf(options: CommandContext['options']): BundleSelection {
  const issue = options.issue;
  const customer = options.customer;
  const from = options.from;
  const to = options.to;
  const given = [issue !== undefined, customer !== undefined, from !== undefined || to !== undefined];
  if (given.filter(Boolean).length !== 1) {
    throw new UsageError('Give exactly one of --issue <id>, --customer <id>, or --from <time> --to <time>.');
  }
  if (typeof issue === 'string') return { issueId: issue };
  if (typeof customer === 'string') return { customerId: customer };
  const recordedFrom = requiredString(options, 'from');
  const recordedTo = requiredString(options, 'to');
  if (instant('from', recordedFrom) >= instant('to', recordedTo))
    throw new UsageError('--from must be before --to.');
  return { recordedFrom, recordedTo };
}

async function selectEvents(
  ledger: LedgerTree,
  selection: BundleSelection,
  progress: (n: number) => void,
): Promise<StoredEvent[]> {
  if ('issueId' in selection) {
    const issue = await ledger.events.readStream(`issue-${selection.issueId}`);
    if (issue.length === 0) throw new NotFoundError(`No issue "${selection.issueId}".`);
    return [...issue, ...(await readStreams(ledger, linkedCharges(issue)))];
  }
  if ('customerId' in selection) {
    // Charges and issues name their customer in their first event; later events do not, so the scan
    // finds the streams and then reads them whole.
    const streams = new Set<string>([`customer-${selection.customerId}`]);
    await scan(
      ledger,
      (event) => {
        if (event.data.customerId === selection.customerId) streams.add(event.stream);
      },
      progress,
    );
    const events = await readStreams(ledger, streams);
    if (events.length === 0) throw new NotFoundError(`No customer "${selection.customerId}".`);
    const linked = linkedCharges(events).filter((stream) => !streams.has(stream));
    return [...events, ...(await readStreams(ledger, linked))];
  }
  const from = Date.parse(selection.recordedFrom);
  const to = Date.parse(selection.recordedTo);
  const events: StoredEvent[] = [];
  await scan(
    ledger,
    (event) => {
      const at = Date.parse(event.metadata.recordedAt);
      if (at >= from && at < to) events.push(event);
    },
    progress,
  );
  return [...events, ...(await fillHoles(ledger, events))];
}

/**
 * recordedAt is taken just before an append, so two writers racing on one stream can record times out of
 * revision order and a range may catch revisions 4 and 6 but not 5. The events between the first and last
 * selected revision of each stream are added, so every stream in the bundle is contiguous (and checkable).
 */
async function fillHoles(ledger: LedgerTree, events: readonly StoredEvent[]): Promise<StoredEvent[]> {
  const revisions = new Map<string, Set<number>>();
  for (const event of events) {
    const set = revisions.get(event.stream) ?? new Set<number>();
    set.add(event.revision);
    revisions.set(event.stream, set);
  }
  const missing: StoredEvent[] = [];
  for (const [stream, set] of revisions) {
    const first = Math.min(...set);
    const last = Math.max(...set);
    if (last - first + 1 === set.size) continue;
    const span = await ledger.events.readStream(stream, { fromRevision: first, maxCount: last - first + 1 });
    missing.push(...span.filter((event) => !set.has(event.revision)));
  }
  return missing;
}

export const exportBundle: Command = {
  path: ['export'],
  args: [],
  synopsis: '--issue <id> | --customer <id> | --from <time> --to <time>  --out <bundle.jsonl>',
  summary: 'Write an evidence bundle: the events, their inclusion proofs and the signed digest.',
  options: {
    issue: { type: 'string' },
    customer: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
  },
  optionHelp: [
    ['--issue <id>', "the issue's stream and the streams of the charges linked to it"],
    [
      '--customer <id>',
      'the customer stream, the issues and charges naming the customer, their linked charges',
    ],
    ['--from <time> --to <time>', 'every event recorded in [from, to) (recordedAt, ISO-8601)'],
    ['--out <file>', 'where to write the bundle (JSON lines, docs/hashing.md)'],
  ],
  example: 'ledger export --issue is_1001 --out is_1001.jsonl',
  async run({ globals, options, io }) {
    const selection = selectionOf(options);
    const out = resolve(io.cwd, requiredString(options, 'out'));
    return withLedgerDb(globals.dataDir, io, { create: false }, async (db) => {
      const ledger = await openLedgerTree(db, io);
      try {
        // One digest covers the whole bundle: published now if the tree grew since the last one.
        const digest = await ledger.publisher.publish();
        io.stderr(`\ndigest: tree size ${digest.treeSize}, root ${digest.rootHash}\n`);
        const selected = await selectEvents(ledger, selection, (n) =>
          io.stderr(`\rscanned ${n.toLocaleString('en')} events   `),
        );
        const unique = new Map(selected.map((event) => [event.metadata.eventId, event]));
        const leaves: { event: StoredEvent; sequence: number }[] = [];
        let later = 0;
        for (const event of unique.values()) {
          const leaf = await ledger.tree.leafByEventId(event.metadata.eventId);
          if (leaf && leaf.sequence < digest.treeSize) leaves.push({ event, sequence: leaf.sequence });
          else later++;
        }
        leaves.sort((a, b) => a.sequence - b.sequence);
        const streams = [...new Set(leaves.map(({ event }) => event.stream))].sort();
        const file = createWriteStream(out, { encoding: 'utf8' });
        const write = async (line: string) => {
          if (!file.write(`${line}\n`)) await once(file, 'drain');
        };
        await write(
          bundleHeaderLine({
            createdAt: new Date().toISOString(),
            selection,
            streams,
            events: leaves.length,
            digest,
          }),
        );
        let written = 0;
        for (const { event, sequence } of leaves) {
          await write(
            bundleEventLine(
              event,
              sequence,
              await storedInclusionProof(ledger.tree, sequence, digest.treeSize),
            ),
          );
          if (++written % 1000 === 0)
            io.stderr(`\rwrote ${written.toLocaleString('en')} / ${leaves.length} events   `);
        }
        file.end();
        await once(file, 'finish');
        io.stderr(
          `\nwrote ${leaves.length} event(s) of ${streams.length} stream(s) to ${out}` +
            (later ? `; ${later} event(s) recorded after the digest left out` : '') +
            '\n',
        );
        // Exports are reads the access log covers (DESIGN.md); the CLI has no API key, so the OS user acts.
        await appendAccessEntries(
          ledger.events,
          [
            {
              at: new Date().toISOString(),
              actor: `cli:${userInfo().username}`,
              roles: [],
              method: 'CLI',
              route: 'ledger export',
              ids: Object.fromEntries(Object.entries(selection)),
              // A time range may span every stream: the range itself says what was read.
              streams: 'recordedFrom' in selection ? [] : streams,
              status: 200,
              ip: 'local',
            },
          ],
          uuidv7Generator,
          systemClock,
        );
        const result = { out, events: leaves.length, streams, leftOut: later, digest };
        io.stdout(globals.json ? `${toJson(result)}\n` : `${out}\n`);
        return EXIT.ok;
      } finally {
        await ledger.close();
      }
    });
  },
};
