import {
  UnreadableStoredEventError,
  type EventStore,
  type StoredEvent,
} from '../../application/ports/event-store.port';
import { canonicalize } from '../canonical-json';
import { prevHashOf, scannedEvent } from './ledger-verifier';
import type {
  RawEventRow,
  ScannedEvent,
  VerificationSnapshot,
  VerificationSource,
} from './verification-source';

const PAGE = 5000;

function rawRow(event: StoredEvent): RawEventRow {
  return {
    position: Number(event.position),
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    // The port hands out parsed JSON; the JCS of it is the stored text whenever that was JCS.
    data: canonicalize(event.data),
    metadata: canonicalize(event.metadata),
    canonical: event.canonical,
    hash: event.metadata.hash,
  };
}

/**
 * An event whose stored bytes do not read as a ledger event: the bytes and the stored hash are all there
 * is, so it is scanned as not intact and diagnosed from them (ledger-verifier's `diagnose`).
 */
function unreadableRow(error: UnreadableStoredEventError): RawEventRow {
  return {
    position: Number(error.position),
    stream: error.stream,
    revision: error.revision,
    type: error.type,
    schemaVersion: 0,
    data: '',
    metadata: '',
    canonical: error.stored,
    hash: error.hash,
  };
}

/**
 * One page of events from `read`, or, when an event in it is unreadable, the readable events before it
 * (read one at a time) and then that event as a row: the scan goes on past it instead of failing.
 */
async function readPage(
  read: (from: { position: bigint; revision: number }, maxCount: number) => Promise<StoredEvent[]>,
  from: { position: bigint; revision: number },
): Promise<(StoredEvent | RawEventRow)[]> {
  try {
    return await read(from, PAGE);
  } catch (error) {
    if (!(error instanceof UnreadableStoredEventError)) throw error;
    const page: (StoredEvent | RawEventRow)[] = [];
    let cursor = from;
    for (;;) {
      let one: StoredEvent[];
      try {
        one = await read(cursor, 1);
      } catch (again) {
        if (!(again instanceof UnreadableStoredEventError)) throw again;
        page.push(unreadableRow(again));
        return page;
      }
      // The page failed on an event after these: it is met again before the page's end.
      if (one.length === 0) return page;
      page.push(one[0]);
      cursor = { position: one[0].position + 1n, revision: one[0].revision + 1 };
    }
  }
}

const isStored = (item: StoredEvent | RawEventRow): item is StoredEvent => typeof item.metadata !== 'string';

/**
 * Verification through the EventStore port, for engines without a raw reader: readAll (or readStream) in
 * pages. No snapshot (a scan runs while appends go on; what is appended during it is checked or not, never
 * half) and no stream heads, and positions are not assumed dense.
 */
export class EventStoreVerificationSource implements VerificationSource {
  readonly densePositions = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly options: {
      /**
       * How many events the ledger holds, for progress: where positions are not dense (EventStoreDB) the
       * head position is no count, and counting would mean reading everything twice. The runtime answers
       * the Merkle tree's size there (events up to its last catch-up): an estimate.
       */
      countAll?: () => Promise<number>;
    } = {},
  ) {}

  snapshot<T>(use: (snapshot: VerificationSnapshot) => Promise<T>): Promise<T> {
    const store = this.eventStore;
    const countAll =
      this.options.countAll ??
      (store.densePositions ? async () => Math.max(0, Number(await store.headPosition())) : async () => 0);
    // The rows of the batch being checked, for `row()`: a broken event is diagnosed before the next batch.
    let current = new Map<number, RawEventRow>();
    const scan = (events: (StoredEvent | RawEventRow)[]): ScannedEvent[] => {
      current = new Map();
      return events.map((event) => {
        if (!isStored(event)) {
          current.set(event.position, event);
          return [
            event.position,
            event.stream,
            event.revision,
            prevHashOf(event.canonical),
            event.hash,
            false,
          ];
        }
        const row = rawRow(event);
        current.set(row.position, row);
        return scannedEvent(row);
      });
    };
    return use({
      async count(stream) {
        if (stream === undefined) return countAll();
        const last = await store.readStream(stream, {
          direction: 'backwards',
          fromRevision: 'end',
          maxCount: 1,
        });
        return last.length === 0 ? 0 : last[0].revision + 1;
      },
      async *batches(stream) {
        if (stream !== undefined) {
          let from = { position: 0n, revision: 0 };
          for (;;) {
            const page = await readPage(
              (at, maxCount) => store.readStream(stream, { fromRevision: at.revision, maxCount }),
              from,
            );
            if (page.length > 0) yield scan(page);
            if (page.length === 0 || (page.length < PAGE && isStored(page[page.length - 1]))) return;
            const last = page[page.length - 1];
            from = { position: BigInt(last.position) + 1n, revision: last.revision + 1 };
          }
        }
        const head = await store.headPosition();
        let from = { position: 0n, revision: 0 };
        while (from.position <= head) {
          const page = (
            await readPage((at, maxCount) => store.readAll({ fromPosition: at.position, maxCount }), from)
          ).filter((event) => BigInt(event.position) <= head);
          if (page.length === 0) return;
          yield scan(page);
          const last = page[page.length - 1];
          from = { position: BigInt(last.position) + 1n, revision: last.revision + 1 };
        }
      },
      row: async (position) => current.get(position) ?? null,
      heads: async () => null,
    });
  }
}
