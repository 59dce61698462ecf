import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { embeddedLedgerFile, openLedger, selectEngines, UnsupportedEngineError } from './open-ledger';

describe('openLedger', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'open-ledger-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens the embedded store when no production engine is configured', async () => {
    const config = loadConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_DIGEST_INTERVAL_SECONDS: '0' });
    expect(selectEngines(config)).toEqual({ events: 'sqlite', readModels: 'sqlite' });
    const ledger = await openLedger(config);
    try {
      expect(ledger.adapters.engines).toEqual({ events: 'sqlite', readModels: 'sqlite' });
      expect(await ledger.adapters.eventStore.headPosition()).toBe(-1n);
      expect(existsSync(join(dataDir, 'ledger.db'))).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it.each([
    [
      { EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' },
      'EVENTSTORE_CONNECTION_STRING (EventStoreDB) is set, but this build does not support this engine yet: ' +
        'unset it to run on the embedded store in LEDGER_DATA_DIR.',
    ],
    [
      { MONGODB_URI: 'mongodb://localhost:27017/ledger' },
      'MONGODB_URI (MongoDB) is set, but this build does not support this engine yet: ' +
        'unset it to run on the embedded store in LEDGER_DATA_DIR.',
    ],
    [
      { EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113', MONGODB_URI: 'mongodb://localhost:27017' },
      'EVENTSTORE_CONNECTION_STRING (EventStoreDB) and MONGODB_URI (MongoDB) are set, but this build does ' +
        'not support these engines yet: unset them to run on the embedded store in LEDGER_DATA_DIR.',
    ],
  ])('refuses to start with %j, saying the engine is not supported yet', async (env, message) => {
    const config = loadConfig({ ...env, LEDGER_DATA_DIR: dataDir });
    await expect(openLedger(config)).rejects.toThrow(new UnsupportedEngineError(message));
    expect(() => embeddedLedgerFile(config)).toThrow(message);
    // Nothing was opened or created on the embedded store meanwhile.
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });
});
