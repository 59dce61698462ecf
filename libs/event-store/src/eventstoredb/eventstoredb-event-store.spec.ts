import { describeEventImportContract } from '../contract/event-import.contract';
import { describeEventStoreContract } from '../contract/event-store.contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
const SKIPPED = 'skipped: set EVENTSTORE_CONNECTION_STRING to run the EventStoreDB contract suite';

if (connectionString) {
  // Streams get unique names, so a shared server that already holds other events is fine.
  describeEventStoreContract('EventStoreDB (EVENTSTORE_CONNECTION_STRING)', async () => {
    const store = EventStoreDbEventStore.fromConnectionString(connectionString);
    return { store, capabilities: store.capabilities, cleanup: () => store.close() };
  });
  describeEventImportContract('EventStoreDB (EVENTSTORE_CONNECTION_STRING)', async () => {
    const store = EventStoreDbEventStore.fromConnectionString(connectionString);
    return { store, cleanup: () => store.close() };
  });
} else {
  // No server can run here by default: say so in one line rather than skip silently.
  describe('EventStore contract: EventStoreDB', () => {
    it(SKIPPED, () => {
      process.stdout.write(`${SKIPPED}\n`);
    });
  });
}
