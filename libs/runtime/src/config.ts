import { resolve } from 'node:path';
import { parseSlaTargets, type SlaTargets } from '@app/ledger';

export interface LedgerConfig {
  /** PORT: the HTTP port (0: any free port). */
  port: number;
  /** HOST: the interface the API binds. */
  host: string;
  /** LEDGER_DATA_DIR, absolute: the embedded store's directory. */
  dataDir: string;
  /** LEDGER_SLA_TARGETS over the defaults. */
  slaTargets: SlaTargets;
  /** LEDGER_DIGEST_INTERVAL_SECONDS: seconds between signed digests, 0 = on demand only. */
  digestIntervalSeconds: number;
  /** LEDGER_SIGNING_KEY: Ed25519 private key (PEM or base64); absent = the key kept in ledger.db. */
  signingKey?: string;
  /** EVENTSTORE_CONNECTION_STRING: events in EventStoreDB instead of the embedded store. */
  eventStoreConnectionString?: string;
  /** MONGODB_URI: read models and the other stores in MongoDB instead of the embedded store. */
  mongodbUri?: string;
  /**
   * LEDGER_PROJECTIONS: `inside` (default), the API runs the projector in a thread of its own; `external`,
   * another process does (apps/ledger-projector) and the API reads its checkpoints.
   */
  projections: ProjectionsPlacement;
}

export const PROJECTIONS_PLACEMENTS = ['inside', 'external'] as const;
export type ProjectionsPlacement = (typeof PROJECTIONS_PLACEMENTS)[number];

/** A variable of the environment has a value the ledger cannot use; the message names it. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export interface LoadConfigOptions {
  /** What a relative LEDGER_DATA_DIR is resolved against; the process's working directory by default. */
  cwd?: string;
  /** A data directory given otherwise (the CLI's --data-dir), in place of LEDGER_DATA_DIR. */
  dataDir?: string;
}

function integer(name: string, value: string | undefined, fallback: number, max?: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) {
    throw new ConfigurationError(`${name} must be a non-negative integer, got "${value}"`);
  }
  const parsed = Number(value);
  if (max !== undefined && parsed > max) {
    throw new ConfigurationError(`${name} must be at most ${max}, got "${value}"`);
  }
  return parsed;
}

function placement(value: string | undefined): ProjectionsPlacement {
  if (value === undefined || value === '') return 'inside';
  const known = PROJECTIONS_PLACEMENTS.find((candidate) => candidate === value);
  if (known === undefined) {
    throw new ConfigurationError(
      `LEDGER_PROJECTIONS must be ${PROJECTIONS_PLACEMENTS.map((name) => `"${name}"`).join(' or ')}, got "${value}"`,
    );
  }
  return known;
}

/** An empty value counts as unset, as for every other variable. */
const optional = (value: string | undefined): string | undefined => value || undefined;

/**
 * The configuration, read from the environment once at start and validated whole, so a bad value stops
 * the process before anything is opened; every variable is listed in README.md.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): LedgerConfig {
  const cwd = options.cwd ?? process.cwd();
  let slaTargets: SlaTargets;
  try {
    slaTargets = parseSlaTargets(env.LEDGER_SLA_TARGETS);
  } catch (error) {
    // parseSlaTargets names the variable in each of its messages.
    throw new ConfigurationError(error instanceof Error ? error.message : String(error));
  }
  return {
    port: integer('PORT', env.PORT, 3000, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(cwd, options.dataDir ?? (env.LEDGER_DATA_DIR || './data')),
    slaTargets,
    digestIntervalSeconds: integer('LEDGER_DIGEST_INTERVAL_SECONDS', env.LEDGER_DIGEST_INTERVAL_SECONDS, 60),
    signingKey: optional(env.LEDGER_SIGNING_KEY),
    eventStoreConnectionString: optional(env.EVENTSTORE_CONNECTION_STRING),
    mongodbUri: optional(env.MONGODB_URI),
    projections: placement(env.LEDGER_PROJECTIONS),
  };
}

/** What a process prints when it cannot start: a configuration error's message alone, else the stack. */
export function startFailure(error: unknown): string {
  if (error instanceof ConfigurationError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
