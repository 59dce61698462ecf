import { describeReadModelStoreContract } from '../contract/read-model-store.contract';
import { MongoReadModelStore } from './mongo-read-model-store';

const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the MongoDB contract suites';
/** Collection and projection names are unique per test, so one database serves every run. */
const DATABASE = 'ledger_contract';

if (uri) {
  describeReadModelStoreContract('MongoDB (MONGODB_URI)', async () => {
    const stores: MongoReadModelStore[] = [];
    const open = () => {
      const store = MongoReadModelStore.fromConnectionString(uri, {
        databaseName: DATABASE,
        scanPageSize: 300,
      });
      stores.push(store);
      return store;
    };
    return {
      store: open(),
      openPeer: async () => open(),
      async cleanup() {
        for (const store of stores) await store.close();
      },
    };
  });
} else {
  // No MongoDB server can run here by default: say so in one line rather than skip silently.
  describe('ReadModelStore contract: MongoDB', () => {
    it(SKIPPED, () => {
      process.stdout.write(`${SKIPPED}\n`);
    });
  });
}
