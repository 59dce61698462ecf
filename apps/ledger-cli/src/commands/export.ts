import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import {
  appendAccessEntries,
  cutOffLabel,
  cutOffVerdict,
  bundleEventLine,
  bundleHeaderLine,
  keyFingerprint,
  storedConsistencyProof,
  storedInclusionProof,
  systemClock,
  uuidv7Generator,
  type BundleSelection,
  type SignedDigest,
  type StoredEvent,
  type TimeCutOff,
} from '@app/ledger';
import {
  aliasedOption,
  EXIT,
  NotFoundError,
  requiredString,
  UsageError,
  type Command,
  type CommandContext,
} from '../cli';
import { toJson, withLedgerEvents } from '../ledger-db';
import { CUT_OFF_HELP, CUT_OFF_OPTIONS, timeCutOffOption } from './cut-off-options';
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
  /** Events outside the cut-off kept to close a chain (occurredAt). */
  outsideCutOff: number;
  items(): AsyncIterable<{ event: StoredEvent; sequence: number }>;
  /** asOf: the `next` lines, proved against the latest digest (BundleCompleteness). */
  next: { event: StoredEvent; sequence: number }[];
}

/**
 * One stream's events as of the cut-off. Bundles check each stream's chain from revision 0 without holes,
 * so where `occurredAt` leaves one (an event dated after the instant between two dated before it), the
 * events in between are kept too and counted as outside the cut-off; `asOf` keeps a prefix, with no hole.
 */
function cutStream(
  events: StoredEvent[],
  cutOff: TimeCutOff | null,
): { kept: StoredEvent[]; inside: StoredEvent[]; next?: StoredEvent } {
  if (!cutOff) return { kept: events, inside: events };
  let end = 0;
  const inside: StoredEvent[] = [];
  for (const [index, event] of events.entries()) {
    const verdict = cutOffVerdict(cutOff, event.metadata);
    if (verdict === 'stop') return { kept: events.slice(0, end), inside, next: event };
    if (verdict === 'keep') {
      end = index + 1;
      inside.push(event);
    }
  }
  return { kept: events.slice(0, end), inside };
}

interface SelectedEvents {
  events: StoredEvent[];
  /** The events within the cut-off: the ones whose links are followed. */
  inside: StoredEvent[];
  /** Events kept only to close a stream's chain, outside the cut-off (occurredAt). */
  outsideCutOff: number;
  /** asOf: each selected stream's first event recorded after the cut-off, where it has one. */
  next: StoredEvent[];
}

async function readStreams(
  ledger: LedgerTree,
  streams: Iterable<string>,
  cutOff: TimeCutOff | null,
): Promise<SelectedEvents> {
  const events: StoredEvent[] = [];
  const inside: StoredEvent[] = [];
  const next: StoredEvent[] = [];
  for (const stream of streams) {
    const cut = cutStream(await ledger.events.readStream(stream), cutOff);
    events.push(...cut.kept);
    inside.push(...cut.inside);
    if (cut.next) next.push(cut.next);
  }
  return { events, inside, outsideCutOff: events.length - inside.length, next };
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
  const from = aliasedOption(options, 'recorded-from', 'from');
  const to = aliasedOption(options, 'recorded-to', 'to');
  const given = [
    issue !== undefined,
    customer !== undefined,
    from.value !== undefined || to.value !== undefined,
  ];
  if (given.filter(Boolean).length !== 1) {
    throw new UsageError(
      'Give exactly one of --issue <id>, --customer <id>, or --recorded-from <time> --recorded-to <time>.',
    );
  }
  const cutOff = timeCutOffOption(options);
  const at = cutOff ? cutOffLabel(cutOff) : {};
  if (typeof issue === 'string') return { issueId: issue, ...at };
  if (typeof customer === 'string') return { customerId: customer, ...at };
  if (cutOff) {
    throw new UsageError(
      `--${cutOff.kind === 'asOf' ? 'as-of' : 'occurred-at'} applies to --issue and --customer; ` +
        'a recorded-time range is already cut by --recorded-to.',
    );
  }
  const recordedFrom = requiredValue(from.value, from.usedName);
  const recordedTo = requiredValue(to.value, to.usedName);
  if (instant(from.usedName, recordedFrom) >= instant(to.usedName, recordedTo))
    throw new UsageError(`--${from.usedName} must be before --${to.usedName}.`);
  return { recordedFrom, recordedTo };
}

function requiredValue(value: unknown, name: string): string {
  return requiredString({ [name]: value as string | undefined }, name);
}

type StreamSelection = Extract<BundleSelection, { issueId: string } | { customerId: string }>;

function cutOffOf(selection: StreamSelection): TimeCutOff | null {
  if (selection.asOf !== undefined) return { kind: 'asOf', at: new Date(selection.asOf) };
  if (selection.occurredAt !== undefined) return { kind: 'occurredAt', at: new Date(selection.occurredAt) };
  return null;
}

/**
 * With a cut-off, each stream is cut on its own and only the charges that the kept events link are
 * followed: a charge linked after the cut-off is not in the bundle.
 */
async function selectEvents(
  ledger: LedgerTree,
  selection: StreamSelection,
  progress: (n: number) => void,
): Promise<SelectedEvents> {
  const cutOff = cutOffOf(selection);
  if ('issueId' in selection) {
    const issue = await ledger.events.readStream(`issue-${selection.issueId}`);
    if (issue.length === 0) throw new NotFoundError(`No issue "${selection.issueId}".`);
    const own = cutStream(issue, cutOff);
    const charges = await readStreams(ledger, linkedCharges(own.inside), cutOff);
    return {
      events: [...own.kept, ...charges.events],
      inside: [...own.inside, ...charges.inside],
      outsideCutOff: own.kept.length - own.inside.length + charges.outsideCutOff,
      next: [...(own.next ? [own.next] : []), ...charges.next],
    };
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
  const named = await readStreams(ledger, streams, cutOff);
  if (named.events.length === 0 && !(await existsAny(ledger, streams))) {
    throw new NotFoundError(`No customer "${customerId}".`);
  }
  const linked = linkedCharges(named.inside).filter((stream) => !streams.has(stream));
  const charges = await readStreams(ledger, linked, cutOff);
  return {
    events: [...named.events, ...charges.events],
    inside: [...named.inside, ...charges.inside],
    outsideCutOff: named.outsideCutOff + charges.outsideCutOff,
    next: [...named.next, ...charges.next],
  };
}

async function existsAny(ledger: LedgerTree, streams: Iterable<string>): Promise<boolean> {
  for (const stream of streams) {
    if ((await ledger.events.readStream(stream, { maxCount: 1 })).length > 0) return true;
  }
  return false;
}

/**
 * Issue and customer selections: whole streams, few enough to hold. Events after `digest` are left out;
 * with asOf, a stream whose tail was left out that way shows its first left-out event as its next one
 * (appended after the cut-off digest), so the bundle still reaches each stream's cut.
 */
async function planStreams(
  ledger: LedgerTree,
  selection: StreamSelection,
  digest: SignedDigest,
  latest: SignedDigest,
  progress: (n: number) => void,
): Promise<ExportPlan> {
  const { events: selected, outsideCutOff, next } = await selectEvents(ledger, selection, progress);
  const unique = new Map(selected.map((event) => [event.metadata.eventId, event]));
  const leaves: { event: StoredEvent; sequence: number }[] = [];
  const firstLeftOut = new Map<string, StoredEvent>();
  let leftOut = 0;
  for (const event of unique.values()) {
    const leaf = await ledger.tree.leafByEventId(event.metadata.eventId);
    if (leaf && leaf.sequence < digest.treeSize) leaves.push({ event, sequence: leaf.sequence });
    else {
      leftOut++;
      const first = firstLeftOut.get(event.stream);
      if (!first || event.revision < first.revision) firstLeftOut.set(event.stream, event);
    }
  }
  leaves.sort((a, b) => a.sequence - b.sequence);
  const nextLines: ExportPlan['next'] = [];
  if (cutOffOf(selection)?.kind === 'asOf') {
    const nextOf = new Map(next.map((event) => [event.stream, event]));
    for (const [stream, event] of firstLeftOut) nextOf.set(stream, event);
    for (const event of nextOf.values()) {
      const leaf = await ledger.tree.leafByEventId(event.metadata.eventId);
      // Appended after the latest digest too: nothing signed covers it yet; it is past the cut-off anyway.
      if (leaf && leaf.sequence < latest.treeSize) nextLines.push({ event, sequence: leaf.sequence });
    }
    nextLines.sort((a, b) => a.sequence - b.sequence);
  }
  return {
    streams: [...new Set(leaves.map(({ event }) => event.stream))].sort(),
    count: leaves.length,
    leftOut,
    outsideCutOff,
    items: async function* () {
      yield* leaves;
    },
    next: nextLines,
  };
}

/**
 * The first digest signed at or after `at`: every event recorded by then was in its tree when it was
 * signed. Null when none is (the caller then uses the digest it just published).
 */
async function firstDigestAtOrAfter(tree: LedgerTree['tree'], at: number): Promise<SignedDigest | null> {
  let fromTreeSize = 0;
  for (;;) {
    const page = await tree.listDigests({ fromTreeSize, limit: 500 });
    const found = page.find((digest) => Date.parse(digest.createdAt) >= at);
    if (found) return found;
    if (page.length < 500) return null;
    fromTreeSize = page[page.length - 1].treeSize + 1;
  }
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
    outsideCutOff: 0,
    next: [],
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

/** A selection that holds no event: exit 1 and no file, so a script cannot mistake it for evidence. */
class EmptyExportError extends Error {
  override readonly name = 'EmptyExportError';
}

function emptyHint(selection: BundleSelection): string {
  const base =
    'the selection holds no event, nothing was written (pass --allow-empty to write an empty bundle)';
  if ('recordedFrom' in selection) {
    return (
      `${base}. --recorded-from/--recorded-to select by recorded time, when the ledger stored each event ` +
      '(demo data is recorded when it is loaded, with earlier business times): for business time use ' +
      '--issue or --customer with --occurred-at'
    );
  }
  return base;
}

export const exportBundle: Command = {
  path: ['export'],
  args: [],
  synopsis:
    '--issue <id> | --customer <id> [--as-of <time> | --occurred-at <time>] | ' +
    '--recorded-from <time> --recorded-to <time>  --out <bundle.jsonl>',
  summary: 'Write an evidence bundle: the events, their inclusion proofs and the signed digest.',
  options: {
    issue: { type: 'string' },
    customer: { type: 'string' },
    'recorded-from': { type: 'string' },
    'recorded-to': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    ...CUT_OFF_OPTIONS,
    out: { type: 'string' },
    'allow-empty': { type: 'boolean' },
  },
  optionHelp: [
    ['--issue <id>', "the issue's stream and the streams of the charges linked to it"],
    [
      '--customer <id>',
      'the customer stream, the issues and charges naming the customer, their linked charges',
    ],
    ...CUT_OFF_HELP.map(([flag, text]): [string, string] => [flag, `with --issue or --customer: ${text}`]),
    [
      '--recorded-from <time> --recorded-to <time>',
      'every event recorded in [from, to) (recordedAt, ISO-8601); --from and --to are the older names',
    ],
    ['--out <file>', 'where to write the bundle (JSON lines, docs/hashing.md)'],
    ['--allow-empty', 'write a bundle even when the selection holds no event (otherwise an error)'],
  ],
  example: 'ledger export --issue is_1001 --out is_1001.jsonl',
  async run({ globals, options, io }) {
    const selection = selectionOf(options);
    const out = resolve(io.cwd, requiredString(options, 'out'));
    const asOf = 'asOf' in selection && selection.asOf !== undefined ? selection.asOf : undefined;
    if (asOf !== undefined && Date.parse(asOf) > Date.now()) {
      throw new UsageError(
        `--as-of ${asOf} is in the future: no digest can prove what the ledger held then.`,
      );
    }
    return withLedgerEvents(globals.config, io, async (events, db) => {
      const ledger = await openLedgerTree(events, db, io, globals.config.signingKey);
      try {
        // The latest digest, published now if the tree grew since the last one. Every proof is against it,
        // except in an --as-of bundle: there against the first digest signed at or after the cut-off, with
        // a consistency proof from that one to this (docs/hashing.md §10).
        const latest = await ledger.publisher.publish();
        const digest =
          asOf === undefined
            ? latest
            : ((await firstDigestAtOrAfter(ledger.tree, Date.parse(asOf))) ?? latest);
        if (asOf !== undefined && Date.parse(digest.createdAt) < Date.parse(asOf)) {
          // The tree has not grown since a digest signed before the cut-off, and one tree size has one
          // digest: nothing signed after the cut-off exists to prove completeness at it.
          io.stderr(
            `warning: no digest was signed at or after ${asOf} (the latest, of tree size ${digest.treeSize}, ` +
              `was signed ${digest.createdAt}); the bundle proves completeness as of then only\n`,
          );
        }
        const fingerprint = await keyFingerprint(digest.publicKey);
        io.stderr(`\ndigest: tree size ${digest.treeSize}, root ${digest.rootHash}, key ${fingerprint}\n`);
        const progress = (n: number) => io.stderr(`\rscanned ${n.toLocaleString('en')} events   `);
        const plan =
          'recordedFrom' in selection
            ? await planRange(ledger, selection, digest, progress)
            : await planStreams(ledger, selection, digest, latest, progress);
        const { streams, count, leftOut, outsideCutOff } = plan;
        if (count === 0 && options['allow-empty'] !== true) {
          throw new EmptyExportError(emptyHint(selection));
        }
        const completeness =
          asOf === undefined
            ? undefined
            : {
                asOf,
                latest,
                consistency: (
                  await storedConsistencyProof(ledger.tree, digest.treeSize, latest.treeSize)
                ).map((hash) => hash.toString('hex')),
                next: plan.next.length,
              };
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
            publicKeyFingerprint: fingerprint,
            ...(completeness ? { completeness } : {}),
          }),
        );
        let written = 0;
        for await (const { event, sequence } of plan.items()) {
          const proof = await storedInclusionProof(ledger.tree, sequence, digest.treeSize);
          await write(bundleEventLine(event, sequence, proof));
          if (++written % 1000 === 0)
            io.stderr(`\rwrote ${written.toLocaleString('en')} / ${count} events   `);
        }
        for (const { event, sequence } of plan.next) {
          const proof = await storedInclusionProof(ledger.tree, sequence, latest.treeSize);
          await write(bundleEventLine(event, sequence, proof, 'next'));
        }
        file.end();
        await once(file, 'finish');
        if (written !== count) {
          throw new Error(`planned ${count} events, wrote ${written}: the ledger changed during the export`);
        }
        io.stderr(
          `\nwrote ${count} event(s) of ${streams.length} stream(s) to ${out}` +
            (leftOut ? `; ${leftOut} event(s) recorded after the digest left out` : '') +
            (outsideCutOff
              ? `; ${outsideCutOff} event(s) outside the cut-off kept to close their stream's chain`
              : '') +
            (completeness
              ? `; as of ${asOf}: cut-off digest of tree size ${digest.treeSize} signed ${digest.createdAt}, ` +
                `consistency proof to tree size ${latest.treeSize}, ${plan.next.length} stream(s) with their next event`
              : '') +
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
        const result = {
          out,
          events: count,
          streams,
          leftOut,
          outsideCutOff,
          digest,
          publicKeyFingerprint: fingerprint,
          ...(completeness ? { latest: completeness.latest, next: completeness.next } : {}),
        };
        io.stdout(globals.json ? `${toJson(result)}\n` : `${out}\n`);
        return EXIT.ok;
      } finally {
        await ledger.close();
      }
    });
  },
};
