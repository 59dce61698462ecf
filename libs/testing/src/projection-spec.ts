import type {
  Actor,
  DocumentChange,
  DocumentKey,
  DocumentLookup,
  Projection,
  ReadDocument,
  StoredEvent,
} from '@app/ledger';

/** The part of a Projection that given/then drives; type-only, so nothing of the ledger loads at runtime. */
export type ProjectionUnderTest = Pick<Projection, 'name' | 'collections' | 'keysFor' | 'apply'>;

/** Documents by collection, then by id: the projection's whole input and output in a spec. */
export type DocumentMap = Map<string, Map<string, ReadDocument>>;

/** Expected documents per collection, in any order; a collection left out must hold nothing. */
export type ExpectedDocuments = Readonly<Record<string, readonly ReadDocument[]>>;

export interface ProjectionGiven {
  /** The documents after the history, per collection, sorted by id. */
  readonly documents: Record<string, ReadDocument[]>;
  /** Asserts exactly these documents exist, with exactly these fields (strict: undefined is a difference). */
  thenDocuments(expected: ExpectedDocuments): void;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
}

const keyOf = (key: DocumentKey): string => `${key.collection}/${key.id}`;

const writeOnceCollections = (projection: ProjectionUnderTest): Set<string> =>
  new Set(projection.collections.filter((spec) => spec.writeOnce).map((spec) => spec.name));

/**
 * The lookup the projector would give: only the declared keys, each a frozen copy, so a projection that
 * reads a document its keysFor did not name, or mutates what it read, fails loudly.
 */
function lookupOver(
  projection: ProjectionUnderTest,
  documents: DocumentMap,
  keys: readonly DocumentKey[],
): DocumentLookup {
  const declared = new Set(keys.map(keyOf));
  const writeOnce = writeOnceCollections(projection);
  return {
    get(collection, id) {
      if (!declared.has(keyOf({ collection, id }))) {
        throw new Error(`apply read ${collection}/${id}, which keysFor did not declare`);
      }
      if (writeOnce.has(collection)) {
        throw new Error(`apply read ${collection}/${id}, which is write-once: the projector never reads it`);
      }
      const doc = documents.get(collection)?.get(id);
      return doc === undefined ? null : deepFreeze(structuredClone(doc));
    },
  };
}

function applyOnce(projection: ProjectionUnderTest, documents: DocumentMap, event: StoredEvent) {
  const frozenEvent = deepFreeze(structuredClone(event));
  const keys = projection.keysFor(frozenEvent);
  expect(projection.keysFor(frozenEvent)).toStrictEqual(keys);
  const changes = projection.apply(frozenEvent, lookupOver(projection, documents, keys));
  // Pure: the same input gives the same output.
  expect(projection.apply(frozenEvent, lookupOver(projection, documents, keys))).toStrictEqual(changes);
  return { keys, changes };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function checkChanges(
  projection: ProjectionUnderTest,
  event: StoredEvent,
  keys: readonly DocumentKey[],
  changes: readonly DocumentChange[],
): void {
  const collections = new Set(projection.collections.map((spec) => spec.name));
  const declared = new Set(keys.map(keyOf));
  for (const change of changes) {
    const where = `${projection.name}: ${event.type} at ${event.position} wrote ${keyOf(change)}`;
    check(collections.has(change.collection), `${where}, a collection it does not declare`);
    // A document written without being read could not have been guarded by its lastPosition.
    check(declared.has(keyOf(change)), `${where}, which keysFor did not declare`);
    if (change.doc === null) continue;
    check(change.doc.id === change.id, `${where} with id ${String(change.doc.id)}`);
    check(
      change.doc.lastPosition === Number(event.position),
      `${where} with lastPosition ${String(change.doc.lastPosition)}, not the event's position`,
    );
    expect(JSON.parse(JSON.stringify(change.doc))).toStrictEqual(change.doc);
    expect(structuredClone(change.doc)).toStrictEqual(change.doc);
  }
}

function write(documents: DocumentMap, changes: readonly DocumentChange[]): void {
  for (const change of changes) {
    let collection = documents.get(change.collection);
    if (collection === undefined) documents.set(change.collection, (collection = new Map()));
    if (change.doc === null) collection.delete(change.id);
    else collection.set(change.id, structuredClone(change.doc));
  }
}

function expectNoChange(
  projection: ProjectionUnderTest,
  documents: DocumentMap,
  event: StoredEvent,
  when: string,
) {
  const writeOnce = writeOnceCollections(projection);
  // A write-once document is written again on replay, unread; writing the very same content changes nothing.
  const changes = applyOnce(projection, documents, event).changes.filter(
    (change) =>
      !writeOnce.has(change.collection) ||
      // Plain JSON (checked when written), built in the same order: equal content, equal text.
      JSON.stringify(change.doc) !== JSON.stringify(documents.get(change.collection)?.get(change.id) ?? null),
  );
  check(
    changes.length === 0,
    `${projection.name}: ${event.type} at ${event.position} applied again (${when}) changed ` +
      changes.map(keyOf).join(', '),
  );
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Per collection, sorted by id, empty collections left out: equal contents compare equal. */
function normalised(collections: Iterable<[string, Iterable<ReadDocument>]>): Record<string, ReadDocument[]> {
  const result: Record<string, ReadDocument[]> = {};
  for (const [collection, docs] of [...collections].sort(([a], [b]) => compare(a, b))) {
    const sorted = [...docs].map((doc) => structuredClone(doc)).sort((a, b) => compare(a.id, b.id));
    if (sorted.length > 0) result[collection] = sorted;
  }
  return result;
}

/**
 * givenEvents(projection, history).thenDocuments({ collection: [docs] }).
 * Applies the events one at a time to an in-memory document map, as the projector does, and checks on the
 * way: apply reads only what keysFor declared and writes only that, is deterministic, never mutates its
 * input, writes plain JSON stamped with the event's position; applying each event again at once, and the
 * whole history again at the end, changes nothing (replay safety).
 */
export function givenEvents(
  projection: ProjectionUnderTest,
  events: readonly StoredEvent[],
): ProjectionGiven {
  const documents: DocumentMap = new Map();
  for (const event of events) {
    const { keys, changes } = applyOnce(projection, documents, event);
    checkChanges(projection, event, keys, changes);
    write(documents, changes);
    expectNoChange(projection, documents, event, 'at once');
  }
  for (const event of events) expectNoChange(projection, documents, event, 'whole history replayed');
  const result = normalised([...documents].map(([collection, docs]) => [collection, docs.values()]));
  return {
    documents: result,
    thenDocuments(expected) {
      expect(result).toStrictEqual(normalised(Object.entries(expected)));
    },
  };
}

export interface EventOptions {
  /** Business time; defaults to the log's clock, which moves one minute per event. */
  occurredAt?: string;
  /** Ledger time; defaults to occurredAt. */
  recordedAt?: string;
  actor?: Actor;
}

export interface LedgerLogOptions {
  /** Position of the first event; default 0n. */
  firstPosition?: bigint;
  /** Gap between positions; default 1n. EventStoreDB's commit positions are not dense. */
  positionStep?: bigint;
  /** Clock of the first event; default 2026-03-02T09:00:00.000Z. */
  startAt?: string;
  /** Default actor; a service. */
  actor?: Actor;
}

export const serviceActor = (id = 'svc-key'): Actor => ({ kind: 'service', id });
export const agentActor = (agentId: string, id = 'desk-key'): Actor => ({ kind: 'agent', id, agentId });

/** Builds StoredEvents as the store would hand them out: per-stream revisions, increasing positions. */
export class LedgerLog {
  private readonly revisions = new Map<string, number>();
  private readonly stored: StoredEvent[] = [];
  private nextPosition: bigint;
  private readonly step: bigint;
  private clock: number;
  private readonly defaultActor: Actor;

  constructor(options: LedgerLogOptions = {}) {
    this.nextPosition = options.firstPosition ?? 0n;
    this.step = options.positionStep ?? 1n;
    this.clock = Date.parse(options.startAt ?? '2026-03-02T09:00:00.000Z');
    this.defaultActor = options.actor ?? serviceActor();
  }

  /** Every event recorded so far, in ledger order. */
  get events(): StoredEvent[] {
    return [...this.stored];
  }

  /** Records the next event of `stream`. Typed by the caller's event union: `log.record<IssueEvent>(...)`. */
  record<E extends { type: string; data: object }>(
    stream: string,
    event: E,
    options: EventOptions = {},
  ): StoredEvent {
    const revision = (this.revisions.get(stream) ?? -1) + 1;
    const position = this.nextPosition;
    const occurredAt = options.occurredAt ?? new Date(this.clock).toISOString();
    const stored: StoredEvent = {
      stream,
      revision,
      position,
      type: event.type,
      schemaVersion: 1,
      data: structuredClone(event.data) as Record<string, unknown>,
      metadata: {
        eventId: `event-${position}`,
        occurredAt,
        recordedAt: options.recordedAt ?? occurredAt,
        actor: options.actor ?? this.defaultActor,
        correlationId: `correlation-${position}`,
        causationId: null,
        schemaVersion: 1,
        prevHash: '0'.repeat(64),
        hash: '0'.repeat(64),
      },
      canonical: '',
    };
    this.revisions.set(stream, revision);
    this.nextPosition += this.step;
    this.clock += 60_000;
    this.stored.push(stored);
    return stored;
  }
}
