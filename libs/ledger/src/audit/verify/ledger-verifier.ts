import { hash as oneShotHash } from 'node:crypto';
import { canonicalEventBytes, ZERO_HASH, type CanonicalEventInput } from '../event-hash';
import { canonicalize } from '../canonical-json';
import type {
  RawEventRow,
  ScannedEvent,
  VerificationSnapshot,
  VerificationSource,
} from './verification-source';

/**
 * Why an event (or a stream) fails verification. Each names one kind of tampering (docs/audit.md):
 * - `data-mismatch`, `metadata-mismatch`, `envelope-mismatch`: a column was changed; the stored canonical
 *   bytes still hash to the stored hash and say what it was;
 * - `canonical-changed`: the canonical bytes were changed; the columns still encode the hashed bytes;
 * - `hash-mismatch`: fields and canonical bytes agree, but they do not hash to the stored hash (the event was
 *   rewritten consistently, or the hash column edited);
 * - `revision-gap`: a revision is missing: an event was removed (its position is named when the positions
 *   are dense and one is missing there);
 * - `revision-reordered`: a revision is stored after the one that follows it (the global order was changed);
 * - `revision-duplicate`: a revision appears twice (an inserted event);
 * - `prev-hash-mismatch`: prevHash does not name the previous event's hash: an inserted (forged) event, or
 *   its predecessor rewritten with a fresh hash;
 * - `position-gap`: a position is missing and no stream misses it: a removed event whose stream head was
 *   also rewritten;
 * - `stream-head-beyond-events`: the stream head records more events than are stored: its tail was removed;
 * - `stream-head-behind-events`: events stored beyond the recorded head: appended (inserted) by hand;
 * - `stream-head-hash-mismatch`: the head's hash is not the last event's: the last event was rewritten;
 * - `stream-head-missing`: events of a stream the heads table does not know.
 */
export type VerificationReason =
  | 'data-mismatch'
  | 'metadata-mismatch'
  | 'envelope-mismatch'
  | 'canonical-changed'
  | 'hash-mismatch'
  | 'revision-gap'
  | 'revision-reordered'
  | 'revision-duplicate'
  | 'prev-hash-mismatch'
  | 'position-gap'
  | 'stream-head-beyond-events'
  | 'stream-head-behind-events'
  | 'stream-head-hash-mismatch'
  | 'stream-head-missing';

export interface VerificationBreak {
  /** null only for a `position-gap` no stream accounts for. */
  stream: string | null;
  revision: number | null;
  /** Position of the event named (for a removed event, the position it had), as a string. */
  position: string | null;
  reason: VerificationReason;
  detail: string;
}

export interface VerificationProgress {
  checked: number;
  total: number;
  eventsPerSecond: number;
}

export interface LedgerVerification {
  ok: boolean;
  /** Events read and checked. */
  checked: number;
  streams: number;
  /** The break with the lowest position (stream heads and unplaced gaps after every event). */
  firstBroken: VerificationBreak | null;
  /** Up to MAX_REPORTED_BREAKS breaks, in position order; `breakCount` counts them all. */
  breaks: VerificationBreak[];
  breakCount: number;
  /** Whether the engine's stream heads were checked too (SQLite: the streams table). */
  headsChecked: boolean;
  /** Threads that checked the events themselves beside the chain scan (0: the scan did). */
  checkingThreads: number;
  seconds: number;
  eventsPerSecond: number;
}

export interface VerifyOptions {
  /** One stream only; default the whole ledger. */
  stream?: string;
  onProgress?: (progress: VerificationProgress) => void;
}

export const MAX_REPORTED_BREAKS = 100;

const HASH_MEMBER = ',"hash":"';
const PREV_HASH_MEMBER = ',"prevHash":"';
const HEX64 = /^[0-9a-f]{64}$/;

interface Head {
  revision: number;
  hash: string;
  position: number;
}

interface PendingGap {
  /** The revision that was due. */
  expectedRevision: number;
  /** The event found where it was expected, and its prevHash. */
  stream: string;
  revision: number;
  position: number;
  prevHash: string;
  /** Hash and position of the event before the gap. */
  beforeHash: string;
  beforePosition: number;
}

const sha256 = (text: string): string => oneShotHash('sha256', text, 'hex');

/**
 * Whether the stored canonical bytes are exactly the JCS of the envelope plus the stored data and metadata
 * columns (metadata minus its hash member, which must equal the hash column). Assembled from the stored
 * text, no parsing: the columns are stored in JCS form. The SQLite source runs the same comparison in SQL.
 */
export function columnsMatchCanonical(row: RawEventRow): boolean {
  const { canonical: c, data, metadata } = row;
  const hashAt = metadata.lastIndexOf(HASH_MEMBER);
  if (
    hashAt <= 0 ||
    !metadata.startsWith(row.hash, hashAt + HASH_MEMBER.length) ||
    metadata.charCodeAt(hashAt + HASH_MEMBER.length + 64) !== 0x22
  ) {
    return false;
  }
  if (!c.startsWith('{"data":') || !c.startsWith(data, 8)) return false;
  let at = 8 + data.length;
  if (!c.startsWith(',"metadata":', at)) return false;
  at += 12;
  const before = metadata.substring(0, hashAt);
  if (!c.startsWith(before, at)) return false;
  at += before.length;
  const after = metadata.substring(hashAt + HASH_MEMBER.length + 65);
  if (!c.startsWith(after, at)) return false;
  at += after.length;
  const tail = `,"revision":${row.revision},"schemaVersion":${row.schemaVersion},"stream":${JSON.stringify(row.stream)},"type":${JSON.stringify(row.type)}}`;
  return c.length === at + tail.length && c.endsWith(tail);
}

/** The per-event check of a source that has the whole row: the tuple `batches` yields. */
export function scannedEvent(row: RawEventRow): ScannedEvent {
  const intact = columnsMatchCanonical(row) && sha256(row.canonical) === row.hash;
  return [row.position, row.stream, row.revision, prevHashOf(row.canonical), row.hash, intact];
}

/** In valid JCS the last `,"prevHash":"` is metadata's own: only fixed-form members follow it. */
export function prevHashOf(canonical: string): string {
  const at = canonical.lastIndexOf(PREV_HASH_MEMBER);
  return at < 0 ? '' : canonical.substr(at + PREV_HASH_MEMBER.length, 64);
}

function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const jcs = (value: unknown): string | null => {
  try {
    return canonicalize(value);
  } catch {
    return null;
  }
};

/** Names what is wrong with an event the fast check refused (or null: nothing is). */
function diagnose(row: RawEventRow): { reason: VerificationReason; detail: string } | null {
  const computed = sha256(row.canonical);
  const data = parsed(row.data);
  const metadata = parsed(row.metadata);
  const canonical = parsed(row.canonical);
  const meta = metadata.ok ? (metadata.value as Record<string, unknown>) : null;
  const { hash: metaHash, ...metaWithoutHash } = meta ?? {};
  let fromColumns: string | null = null;
  if (data.ok && meta) {
    try {
      fromColumns = canonicalEventBytes({
        stream: row.stream,
        revision: row.revision,
        type: row.type,
        schemaVersion: row.schemaVersion,
        data: data.value as Record<string, unknown>,
        // Whatever the stored metadata holds is encoded as it is: this is a comparison, not a validation.
        metadata: metaWithoutHash as unknown as CanonicalEventInput['metadata'],
      });
    } catch {
      fromColumns = null;
    }
  }

  if (computed === row.hash && canonical.ok) {
    // The canonical bytes are the hashed ones: whatever differs from them is a changed column.
    const original = canonical.value as Record<string, unknown>;
    for (const field of ['stream', 'revision', 'type', 'schemaVersion'] as const) {
      const column = {
        stream: row.stream,
        revision: row.revision,
        type: row.type,
        schemaVersion: row.schemaVersion,
      }[field];
      if (original[field] !== column) {
        return {
          reason: 'envelope-mismatch',
          detail: `${field} is ${JSON.stringify(column)} but the hashed bytes say ${JSON.stringify(original[field])}`,
        };
      }
    }
    if (!data.ok) return { reason: 'data-mismatch', detail: 'the stored data is not valid JSON' };
    if (jcs(data.value) !== jcs(original.data)) {
      return { reason: 'data-mismatch', detail: 'the stored data differs from the data the hash covers' };
    }
    if (!meta) return { reason: 'metadata-mismatch', detail: 'the stored metadata is not valid JSON' };
    if (jcs(metaWithoutHash) !== jcs(original.metadata)) {
      const changed = Object.keys({ ...metaWithoutHash, ...(original.metadata as object) }).filter(
        (key) =>
          jcs(metaWithoutHash[key] ?? null) !==
          jcs((original.metadata as Record<string, unknown>)[key] ?? null),
      );
      return {
        reason: 'metadata-mismatch',
        detail: `the stored metadata differs from the metadata the hash covers (${changed.join(', ')})`,
      };
    }
    if (metaHash !== row.hash) {
      return {
        reason: 'metadata-mismatch',
        detail: `metadata.hash ${String(metaHash)} is not the event's hash ${row.hash}`,
      };
    }
    if (row.data !== jcs(data.value) || row.metadata !== jcs(meta)) {
      return { reason: 'data-mismatch', detail: 'a stored JSON column is not in canonical (JCS) form' };
    }
    return null;
  }
  if (fromColumns !== null && sha256(fromColumns) === row.hash) {
    return {
      reason: 'canonical-changed',
      detail:
        'the stored canonical bytes were changed: they no longer hash to the stored hash, the fields still do',
    };
  }
  if (!canonical.ok && !data.ok && !meta) {
    // Nothing but the bytes to go on (an engine that keeps only them, EventStoreDB), and they are not JSON.
    return {
      reason: 'hash-mismatch',
      detail: `the stored bytes are not a ledger event (not JSON) and hash to ${computed}, not the stored ${row.hash}`,
    };
  }
  if (!HEX64.test(row.hash) || (metaHash !== undefined && metaHash !== row.hash)) {
    return {
      reason: 'hash-mismatch',
      detail: `the stored hash ${row.hash} (metadata.hash ${String(metaHash)}) is not the SHA-256 of the canonical bytes, ${computed}`,
    };
  }
  if (fromColumns === row.canonical) {
    return {
      reason: 'hash-mismatch',
      detail: `fields and canonical bytes agree but hash to ${computed}, not the stored ${row.hash}: the event was rewritten`,
    };
  }
  return {
    reason:
      data.ok &&
      jcs(data.value) !== jcs(canonical.ok ? (canonical.value as Record<string, unknown>).data : null)
        ? 'data-mismatch'
        : 'metadata-mismatch',
    detail: `neither the canonical bytes nor the fields hash to the stored hash ${row.hash}`,
  };
}

/**
 * Recomputes every hash chain from the stored canonical bytes, in global order, in one pass (see
 * VerificationReason for the checks). Per event: (1) the bytes and columns agree and hash to the stored
 * hash; (2) its revision follows the stream's previous one; (3) prevHash names that one's hash. After the
 * pass: missing positions and the engine's stream heads. The scan goes on after a break, so every break is
 * located; a stream's chain continues from the stored hash of a broken event, so one edit is one break.
 */
export async function verifyLedger(
  source: VerificationSource,
  options: VerifyOptions = {},
): Promise<LedgerVerification> {
  const started = performance.now();
  const first = await source.snapshot(
    async (snapshot) => ({
      report: await scan(source, snapshot, options, started),
      deferred: (await snapshot.deferredFailures?.()) ?? [],
    }),
    { parallel: true, stream: options.stream },
  );
  if (first.deferred.length === 0) return first.report;
  // Some event is broken itself: the sequential scan names it (and what follows from it) exactly.
  return source.snapshot((snapshot) => scan(source, snapshot, options, started), {
    parallel: false,
    stream: options.stream,
  });
}

async function scan(
  source: VerificationSource,
  snapshot: VerificationSnapshot,
  options: VerifyOptions,
  started: number,
): Promise<LedgerVerification> {
  const total = await snapshot.count(options.stream);
  const heads = new Map<string, Head>();
  const pendingGaps = new Map<string, PendingGap>();
  const missingPositions: number[] = [];
  const breaks: VerificationBreak[] = [];
  const dense = source.densePositions && options.stream === undefined;
  let checked = 0;
  let lastPosition = 0;
  let lastProgress = started;

  const broken = (
    row: { stream: string | null; revision: number | null; position: number | null },
    reason: VerificationReason,
    detail: string,
  ) =>
    breaks.push({
      stream: row.stream,
      revision: row.revision,
      position: row.position === null ? null : String(row.position),
      reason,
      detail,
    });

  for await (const batch of snapshot.batches(options.stream)) {
    for (const scanned of batch) {
      const [position, stream, revision, prevHash, hash, intact] = scanned;
      checked++;
      if (dense) {
        for (let missing = lastPosition + 1; missing < position; missing++) missingPositions.push(missing);
      }
      lastPosition = position;
      const head = heads.get(stream);

      // (1) the event itself
      if (!intact) {
        const row = await snapshot.row(position);
        const problem = row
          ? diagnose(row)
          : { reason: 'revision-gap' as const, detail: `position ${position} vanished during the scan` };
        if (problem) {
          broken({ stream, revision, position }, problem.reason, problem.detail);
          // The chain goes on from this event's stored hash, so the next event is judged on its own.
          heads.set(stream, { revision: head ? head.revision + 1 : 0, hash, position });
          continue;
        }
      }

      // (2) revision order, (3) the link to the previous event
      const expected = head ? head.revision + 1 : 0;
      if (revision > expected) {
        pendingGaps.set(`${stream}\u0000${expected}`, {
          expectedRevision: expected,
          stream,
          revision,
          position,
          prevHash,
          beforeHash: head?.hash ?? ZERO_HASH,
          beforePosition: head?.position ?? 0,
        });
      } else if (revision < expected) {
        const key = `${stream}\u0000${revision}`;
        const gap = pendingGaps.get(key);
        if (gap) {
          pendingGaps.delete(key);
          const linked = prevHash === gap.beforeHash && gap.prevHash === hash;
          broken(
            gap,
            'revision-reordered',
            `revision ${gap.revision} (position ${gap.position}) is stored before revision ` +
              `${revision} (position ${position})${linked ? '; their chain is intact in revision order' : ''}`,
          );
        } else {
          broken(
            { stream, revision, position },
            'revision-duplicate',
            `revision ${revision} of ${stream} is stored twice`,
          );
        }
        continue;
      } else if (prevHash !== (head?.hash ?? ZERO_HASH)) {
        broken(
          { stream, revision, position },
          'prev-hash-mismatch',
          `prevHash ${prevHash} does not name the previous event's hash ${head?.hash ?? ZERO_HASH}`,
        );
      }
      // Updated in place: one object per stream, not per event.
      if (head) {
        head.revision = revision;
        head.hash = hash;
        head.position = position;
      } else heads.set(stream, { revision, hash, position });
    }
    const now = performance.now();
    if (options.onProgress && now - lastProgress >= 200) {
      lastProgress = now;
      options.onProgress({
        checked,
        total,
        eventsPerSecond: Math.round(checked / ((now - started) / 1000)),
      });
    }
  }

  // Gaps never filled: the missing revision was removed. Name its position when exactly there one is missing.
  const placed = new Set<number>();
  for (const gap of pendingGaps.values()) {
    const expected = gap.expectedRevision;
    const candidate = missingPositions.find(
      (position) => position > gap.beforePosition && position < gap.position && !placed.has(position),
    );
    if (candidate !== undefined) placed.add(candidate);
    broken(
      { stream: gap.stream, revision: expected, position: candidate ?? gap.position },
      'revision-gap',
      `revision ${expected} of ${gap.stream} is missing (removed)` +
        (candidate !== undefined
          ? `; position ${candidate} is missing too`
          : `; revision ${gap.revision} follows`),
    );
  }

  const stored = await snapshot.heads(options.stream);
  if (stored) {
    const recorded = new Set<string>();
    for (const row of stored) {
      recorded.add(row.stream);
      const seen = heads.get(row.stream);
      const seenRevision = seen?.revision ?? -1;
      if (row.revision > seenRevision) {
        if (dense && missingPositions.includes(row.lastPosition)) placed.add(row.lastPosition);
        broken(
          { stream: row.stream, revision: seenRevision + 1, position: row.lastPosition },
          'stream-head-beyond-events',
          `the stream head records revision ${row.revision} (position ${row.lastPosition}) but the last stored ` +
            `event is revision ${seenRevision}: revisions ${seenRevision + 1}..${row.revision} were removed`,
        );
      } else if (row.revision < seenRevision) {
        broken(
          { stream: row.stream, revision: row.revision + 1, position: seen!.position },
          'stream-head-behind-events',
          `events after the recorded head (revision ${row.revision}) are stored, up to revision ${seenRevision}: ` +
            'they were not appended by the ledger',
        );
      } else if (seen && (row.lastHash !== seen.hash || row.lastPosition !== seen.position)) {
        broken(
          { stream: row.stream, revision: seen.revision, position: seen.position },
          'stream-head-hash-mismatch',
          `the stream head records hash ${row.lastHash} at position ${row.lastPosition}; the last event has ` +
            `${seen.hash} at position ${seen.position}: it was rewritten`,
        );
      }
    }
    for (const [stream, seen] of heads) {
      if (!recorded.has(stream)) {
        broken(
          { stream, revision: 0, position: null },
          'stream-head-missing',
          `${stream} has ${seen.revision + 1} stored event(s) but no stream head`,
        );
      }
    }
  }
  for (const position of missingPositions) {
    if (placed.has(position)) continue;
    broken(
      { stream: null, revision: null, position },
      'position-gap',
      `position ${position} is missing: an event was removed`,
    );
  }

  breaks.sort((a, b) => positionKey(a) - positionKey(b));
  const seconds = (performance.now() - started) / 1000;
  return {
    ok: breaks.length === 0,
    checked,
    streams: heads.size,
    firstBroken: breaks[0] ?? null,
    breaks: breaks.slice(0, MAX_REPORTED_BREAKS),
    breakCount: breaks.length,
    headsChecked: stored !== null,
    checkingThreads: snapshot.checkingThreads ?? 0,
    seconds,
    eventsPerSecond: seconds > 0 ? Math.round(checked / seconds) : checked,
  };
}

const positionKey = (entry: VerificationBreak) =>
  entry.position === null ? Number.MAX_SAFE_INTEGER : Number(entry.position);
