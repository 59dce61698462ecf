import { resolve } from 'node:path';
import { parseSlaTargets, type SlaTargets } from '@app/ledger';

export interface LedgerConfig {
  port: number;
  host: string;
  dataDir: string;
  slaTargets: SlaTargets;
  /** LEDGER_DIGEST_INTERVAL_SECONDS: seconds between signed digests, 0 = on demand only. */
  digestIntervalSeconds: number;
  /** LEDGER_SIGNING_KEY: Ed25519 private key (PEM or base64); absent = the key kept in ledger.db. */
  signingKey?: string;
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

/** Configuration comes from the environment only; every variable is listed in README.md. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  return {
    port: integer('PORT', env.PORT, 3000),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.LEDGER_DATA_DIR || './data'),
    slaTargets: parseSlaTargets(env.LEDGER_SLA_TARGETS),
    digestIntervalSeconds: integer('LEDGER_DIGEST_INTERVAL_SECONDS', env.LEDGER_DIGEST_INTERVAL_SECONDS, 60),
    signingKey: env.LEDGER_SIGNING_KEY || undefined,
  };
}
