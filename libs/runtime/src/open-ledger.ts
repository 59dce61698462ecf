import type { LedgerAdapters } from '@app/ledger';
import { ConfigurationError, type LedgerConfig } from './config';
import { openEmbeddedLedger, type EmbeddedOptions } from './embedded/embedded-ledger';
import { ledgerFile } from './embedded/ledger-file';

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

function unsupported(engines: SelectedEngines): UnsupportedEngineError {
  const set = [
    engines.events === 'eventstoredb' ? 'EVENTSTORE_CONNECTION_STRING (EventStoreDB)' : undefined,
    engines.readModels === 'mongodb' ? 'MONGODB_URI (MongoDB)' : undefined,
  ].filter((variable) => variable !== undefined);
  return new UnsupportedEngineError(
    `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but this build does not support ` +
      `${set.length > 1 ? 'these engines' : 'this engine'} yet: unset ${set.length > 1 ? 'them' : 'it'} ` +
      'to run on the embedded store in LEDGER_DATA_DIR.',
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

/** Opens the ledger on the engines the configuration selects, with everything they need running. */
export async function openLedger(config: LedgerConfig, options: LedgerOptions = {}): Promise<OpenedLedger> {
  const engines = selectEngines(config);
  if (!isEmbedded(engines)) return openProductionLedger(engines);
  return openEmbeddedLedger(config.dataDir, {
    ...options,
    slaTargets: config.slaTargets,
    digestIntervalSeconds: config.digestIntervalSeconds,
    signingKey: config.signingKey,
  });
}

// The production adapters are opened here, each engine's client loaded by a dynamic import() of its
// adapter only when selected, so that a ledger on the embedded store never loads them.
async function openProductionLedger(engines: SelectedEngines): Promise<never> {
  throw unsupported(engines);
}

/**
 * The embedded store's file, for the processes that work on it directly (the CLI's commands, the
 * standalone projector); a configuration that selects a production engine is refused, not ignored.
 */
export function embeddedLedgerFile(config: LedgerConfig): string {
  const engines = selectEngines(config);
  if (!isEmbedded(engines)) throw unsupported(engines);
  return ledgerFile(config.dataDir);
}
