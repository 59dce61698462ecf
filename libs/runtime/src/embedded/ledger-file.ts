import { join } from 'node:path';

/** The embedded store's file in the data directory: the API, the projector and the CLI share it. */
export const LEDGER_DB_FILE = 'ledger.db';

export const ledgerFile = (dataDir: string): string => join(dataDir, LEDGER_DB_FILE);
