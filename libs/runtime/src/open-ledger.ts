import type { LedgerAdapters } from '@app/ledger';
import { ConfigurationError, type LedgerConfig } from './config';
import { openEmbeddedLedger, type EmbeddedOptions } from './embedded/embedded-ledger';
import { ledgerFile } from './embedded/ledger-file';
import { openEventStoreDbLedger } from './eventstoredb/eventstoredb-ledger';

export interface SelectedEngines {
  events: 'sqlite' | 'eventstoredb';
  readModels: 'sqlite' | 'mongodb';
}

/** The engines the configuration selects: the embedded SQLite file unless a production engine's URL is set. */
export function selectEngines(config: LedgerConfig): SelectedEngines {
  return {
    events: config.eventStoreConnectionString ? 'eventstoredb' : 'sqlite',
    readModels: config.mongodbUri ? 'mongodb' : 'sqlite',
  };
}

/** A production engine is configured, and this build has no adapter for it yet. */
export class UnsupportedEngineError extends ConfigurationError {}

/** MongoDB's adapters are not built yet: its variable is refused rather than ignored. */
function unsupported(): UnsupportedEngineError {
  return new UnsupportedEngineError(
    'MONGODB_URI (MongoDB) is set, but this build does not support this engine yet: unset it to keep ' +
      'read models, idempotency records, API keys and digests in the SQLite file of LEDGER_DATA_DIR.',
  );
}

const isEmbedded = (engines: SelectedEngines): boolean =>
  engines.events === 'sqlite' && engines.readModels === 'sqlite';

/** A started ledger: its adapters, and one close for everything it opened (in reverse order). */
export interface OpenedLedger {
  adapters: LedgerAdapters;
  close(): Promise<void>;
}

/** What a caller may set beyond the configuration (tests, benches). */
export type LedgerOptions = Pick<EmbeddedOptions, 'projectionBatchSize' | 'supervision'>;

/**
 * Opens the ledger on the engines the configuration selects, with everything they need running: the
 * embedded profile, or "EventStoreDB events + SQLite derived" (docs/storage.md, "Profiles"). An engine's
 * client is loaded only when it is selected (openEventStoreDbEventStore loads the EventStoreDB adapter).
 */
export async function openLedger(config: LedgerConfig, options: LedgerOptions = {}): Promise<OpenedLedger> {
  const engines = selectEngines(config);
  if (engines.readModels === 'mongodb') throw unsupported();
  const embeddedOptions: EmbeddedOptions = {
    ...options,
    slaTargets: config.slaTargets,
    digestIntervalSeconds: config.digestIntervalSeconds,
    signingKey: config.signingKey,
    projections: config.projections,
  };
  if (config.eventStoreConnectionString !== undefined) {
    return openEventStoreDbLedger(config.eventStoreConnectionString, config.dataDir, embeddedOptions);
  }
  return openEmbeddedLedger(config.dataDir, embeddedOptions);
}

/**
 * The embedded store's file, for the processes that work on its events directly (the CLI's commands, the
 * standalone projector); a configuration that selects a production engine is refused, not ignored.
 */
export function embeddedLedgerFile(config: LedgerConfig): string {
  const engines = selectEngines(config);
  if (engines.readModels === 'mongodb') throw unsupported();
  if (!isEmbedded(engines)) {
    throw new UnsupportedEngineError(
      'EVENTSTORE_CONNECTION_STRING (EventStoreDB) is set: this command works on the embedded store only; ' +
        'unset it to run it on the SQLite file of LEDGER_DATA_DIR.',
    );
  }
  return ledgerFile(config.dataDir);
}

/**
 * The SQLite file of the data directory, whatever holds the events: everything in the embedded profile;
 * read models, idempotency records, API keys, the Merkle tree and digests when the events are on
 * EventStoreDB. Commands that read events from the file itself use embeddedLedgerFile instead.
 */
export function sqliteLedgerFile(config: LedgerConfig): string {
  if (selectEngines(config).readModels === 'mongodb') throw unsupported();
  return ledgerFile(config.dataDir);
}
