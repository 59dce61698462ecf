import type { EventStore, StoredEvent } from '../../application/ports/event-store.port';
import { canonicalize } from '../canonical-json';
import { scannedEvent } from './ledger-verifier';
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
    const scan = (events: StoredEvent[]): ScannedEvent[] => {
      current = new Map();
      return events.map((event) => {
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
          let fromRevision = 0;
          for (;;) {
            const page = await store.readStream(stream, { fromRevision, maxCount: PAGE });
            if (page.length > 0) yield scan(page);
            if (page.length < PAGE) return;
            fromRevision = page[page.length - 1].revision + 1;
          }
        }
        const head = await store.headPosition();
        let fromPosition = 0n;
        while (fromPosition <= head) {
          const page = (await store.readAll({ fromPosition, maxCount: PAGE })).filter(
            (event) => event.position <= head,
          );
          if (page.length === 0) return;
          yield scan(page);
          fromPosition = page[page.length - 1].position + 1n;
        }
      },
      row: async (position) => current.get(position) ?? null,
      heads: async () => null,
    });
  }
}
