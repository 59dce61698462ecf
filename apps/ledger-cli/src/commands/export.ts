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
  type SignedDigest,
  type StoredEvent,
} from '@app/ledger';
import { EXIT, NotFoundError, requiredString, UsageError, type Command, type CommandContext } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';
import { openLedgerTree, type LedgerTree } from './ledger-tree';

const SCAN_BATCH = 5000;

/** Batches of every event in global order, up to `until` (a position) when given. */
async function* batches(ledger: LedgerTree, until?: bigint): AsyncGenerator<StoredEvent[]> {
  let from: bigint | undefined;
  for (;;) {
    const batch = await ledger.events.readAll({ fromPosition: from, maxCount: SCAN_BATCH });
    const kept = until === undefined ? batch : batch.filter((event) => event.position <= until);
    if (kept.length > 0) yield kept;
    if (batch.length < SCAN_BATCH || kept.length < batch.length) return;
    from = batch[batch.length - 1].position + 1n;
  }
}

async function scan(ledger: LedgerTree, visit: (event: StoredEvent) => void, progress: (n: number) => void) {
  let seen = 0;
  for await (const batch of batches(ledger)) {
    batch.forEach(visit);
    progress((seen += batch.length));
  }
}

/** What a bundle will hold: its streams and event count (for the header), then the events in ledger order. */
interface ExportPlan {
  streams: string[];
  count: number;
  /** Selected events recorded after the digest, left out. */
  leftOut: number;
  items(): AsyncIterable<{ event: StoredEvent; sequence: number }>;
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

type StreamSelection = Extract<BundleSelection, { issueId: string } | { customerId: string }>;

async function selectEvents(
  ledger: LedgerTree,
  selection: StreamSelection,
  progress: (n: number) => void,
): Promise<StoredEvent[]> {
  if ('issueId' in selection) {
    const issue = await ledger.events.readStream(`issue-${selection.issueId}`);
    if (issue.length === 0) throw new NotFoundError(`No issue "${selection.issueId}".`);
    return [...issue, ...(await readStreams(ledger, linkedCharges(issue)))];
  }
  // Charges and issues name their customer in their first event; later events do not, so the scan finds
  // the streams and then reads them whole.
  const { customerId } = selection;
  const streams = new Set<string>([`customer-${customerId}`]);
  await scan(
    ledger,
    (event) => {
      if (event.data.customerId === customerId) streams.add(event.stream);
    },
    progress,
  );
  const events = await readStreams(ledger, streams);
  if (events.length === 0) throw new NotFoundError(`No customer "${customerId}".`);
  const linked = linkedCharges(events).filter((stream) => !streams.has(stream));
  return [...events, ...(await readStreams(ledger, linked))];
}

/** Issue and customer selections: whole streams, few enough to hold. */
async function planStreams(
  ledger: LedgerTree,
  selection: StreamSelection,
  digest: SignedDigest,
  progress: (n: number) => void,
): Promise<ExportPlan> {
  const selected = await selectEvents(ledger, selection, progress);
  const unique = new Map(selected.map((event) => [event.metadata.eventId, event]));
  const leaves: { event: StoredEvent; sequence: number }[] = [];
  let leftOut = 0;
  for (const event of unique.values()) {
    const leaf = await ledger.tree.leafByEventId(event.metadata.eventId);
    if (leaf && leaf.sequence < digest.treeSize) leaves.push({ event, sequence: leaf.sequence });
    else leftOut++;
  }
  leaves.sort((a, b) => a.sequence - b.sequence);
  return {
    streams: [...new Set(leaves.map(({ event }) => event.stream))].sort(),
    count: leaves.length,
    leftOut,
    items: async function* () {
      yield* leaves;
    },
  };
}

/**
 * A recorded-time range may cover the whole ledger, so it is streamed in two passes: the first finds, per
 * stream, the first and last revision recorded in the range; the second writes every event between them.
 * That also fills the holes racing writers leave (recordedAt is taken just before an append, so revisions
 * 4 and 6 may fall in a range and 5 not), and every stream in the bundle is contiguous and checkable.
 */
async function planRange(
  ledger: LedgerTree,
  selection: { recordedFrom: string; recordedTo: string },
  digest: SignedDigest,
  progress: (n: number) => void,
): Promise<ExportPlan> {
  const from = Date.parse(selection.recordedFrom);
  const to = Date.parse(selection.recordedTo);
  const last = digest.treeSize > 0 ? await ledger.tree.leafBySequence(digest.treeSize - 1) : null;
  const cutoff = last?.position ?? -1n;
  const spans = new Map<string, { first: number; last: number }>();
  let leftOut = 0;
  await scan(
    ledger,
    (event) => {
      const at = Date.parse(event.metadata.recordedAt);
      if (!(at >= from && at < to)) return;
      if (event.position > cutoff) {
        leftOut++;
        return;
      }
      const span = spans.get(event.stream);
      if (!span) spans.set(event.stream, { first: event.revision, last: event.revision });
      else {
        span.first = Math.min(span.first, event.revision);
        span.last = Math.max(span.last, event.revision);
      }
    },
    progress,
  );
  let count = 0;
  for (const span of spans.values()) count += span.last - span.first + 1;
  return {
    streams: [...spans.keys()].sort(),
    count,
    leftOut,
    items: async function* () {
      for await (const batch of batches(ledger, cutoff)) {
        for (const event of batch) {
          const span = spans.get(event.stream);
          if (!span || event.revision < span.first || event.revision > span.last) continue;
          const leaf = await ledger.tree.leafByEventId(event.metadata.eventId);
          if (!leaf) throw new Error(`event ${event.metadata.eventId} is not in the Merkle tree`);
          yield { event, sequence: leaf.sequence };
        }
      }
    },
  };
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
    return withLedgerDb(globals.config, io, { create: false }, async (db) => {
      const ledger = await openLedgerTree(db, io, globals.config.signingKey);
      try {
        // One digest covers the whole bundle: published now if the tree grew since the last one.
        const digest = await ledger.publisher.publish();
        io.stderr(`\ndigest: tree size ${digest.treeSize}, root ${digest.rootHash}\n`);
        const progress = (n: number) => io.stderr(`\rscanned ${n.toLocaleString('en')} events   `);
        const plan =
          'recordedFrom' in selection
            ? await planRange(ledger, selection, digest, progress)
            : await planStreams(ledger, selection, digest, progress);
        const { streams, count, leftOut } = plan;
        const file = createWriteStream(out, { encoding: 'utf8' });
        const write = async (line: string) => {
          if (!file.write(`${line}\n`)) await once(file, 'drain');
        };
        await write(
          bundleHeaderLine({
            createdAt: new Date().toISOString(),
            selection,
            streams,
            events: count,
            digest,
          }),
        );
        let written = 0;
        for await (const { event, sequence } of plan.items()) {
          const proof = await storedInclusionProof(ledger.tree, sequence, digest.treeSize);
          await write(bundleEventLine(event, sequence, proof));
          if (++written % 1000 === 0)
            io.stderr(`\rwrote ${written.toLocaleString('en')} / ${count} events   `);
        }
        file.end();
        await once(file, 'finish');
        if (written !== count) {
          throw new Error(`planned ${count} events, wrote ${written}: the ledger changed during the export`);
        }
        io.stderr(
          `\nwrote ${count} event(s) of ${streams.length} stream(s) to ${out}` +
            (leftOut ? `; ${leftOut} event(s) recorded after the digest left out` : '') +
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
        const result = { out, events: count, streams, leftOut, digest };
        io.stdout(globals.json ? `${toJson(result)}\n` : `${out}\n`);
        return EXIT.ok;
      } finally {
        await ledger.close();
      }
    });
  },
};
