import type { Database } from 'better-sqlite3';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { projectionLeaseName } from '@app/ledger';
import type { SqliteLeaseStore, SqliteReadModelStoreOptions } from '@app/read-store';
import { ConfigurationError } from '../config';

/** Lease timing of the standalone projector (docs/projections.md "Leases"). */
export interface ProjectorLeaseTiming {
  /** A dead holder's projections are taken over at most this long after its last renewal. */
  ttlMs: number;
  renewMs: number;
}

export const DEFAULT_LEASE_TIMING: ProjectorLeaseTiming = { ttlMs: 5000, renewMs: 1500 };

/** This process among the projector instances: host, pid and a random part (pids are reused). */
export const projectorHolderId = () => `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/**
 * The table of committed ranges, one row per live commit of the standalone projector, written in the
 * commit's own transaction (so a row exists exactly when its range was committed). Only when asked for
 * (LEDGER_PROJECTOR_COMMIT_LOG=1): it is what bench:leases and the leases test check for gaps and overlaps.
 */
export const COMMIT_LOG_TABLE = 'projector_commit_log';

export interface CommitLogRow {
  projection: string;
  from_position: bigint;
  to_position: bigint;
  holder: string;
  token: bigint;
}

/**
 * The read-model store's guard for a leased projector: a commit passes only while `host` holds the
 * projection's lease under the token the lease table still has, checked in the commit's transaction on
 * the same connection; with `commitLog`, the committed range is recorded in that transaction too.
 */
export function leaseGuard(
  db: Database,
  leases: SqliteLeaseStore,
  host: () => { leaseToken(projection: string): bigint | undefined } | undefined,
  holder: string,
  commitLog: boolean,
): NonNullable<SqliteReadModelStoreOptions['guard']> {
  if (commitLog) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${COMMIT_LOG_TABLE} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      projection TEXT NOT NULL,
      from_position INTEGER NOT NULL,
      to_position INTEGER NOT NULL,
      holder TEXT NOT NULL,
      token INTEGER NOT NULL
    )`);
  }
  const insert = commitLog
    ? db.prepare(
        `INSERT INTO ${COMMIT_LOG_TABLE} (projection, from_position, to_position, holder, token)
         VALUES (?, ?, ?, ?, ?)`,
      )
    : undefined;
  return ({ projection, from, to }) => {
    const token = host()?.leaseToken(projection);
    leases.checkHeld(projectionLeaseName(projection), token);
    if (insert && to !== from) insert.run(projection, from, to, holder, token);
  };
}

export interface ProjectorLeaseSettings extends ProjectorLeaseTiming {
  commitLog: boolean;
}

/**
 * The standalone projector's own settings, from its environment: LEDGER_PROJECTOR_LEASE_TTL_MS (5000),
 * LEDGER_PROJECTOR_LEASE_RENEW_MS (1500, below the TTL) and LEDGER_PROJECTOR_COMMIT_LOG (1 to keep the
 * commit log). Read here rather than in loadConfig() because no other process uses them; a bad value is a
 * ConfigurationError, printed as one line naming the variable.
 */
export function projectorLeaseSettings(env: NodeJS.ProcessEnv = process.env): ProjectorLeaseSettings {
  const positive = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ConfigurationError(`${key} must be a positive whole number of milliseconds, not "${raw}"`);
    }
    return value;
  };
  const ttlMs = positive('LEDGER_PROJECTOR_LEASE_TTL_MS', DEFAULT_LEASE_TIMING.ttlMs);
  const renewMs = positive(
    'LEDGER_PROJECTOR_LEASE_RENEW_MS',
    Math.min(DEFAULT_LEASE_TIMING.renewMs, Math.floor(ttlMs / 3)),
  );
  if (renewMs >= ttlMs) {
    throw new ConfigurationError(
      `LEDGER_PROJECTOR_LEASE_RENEW_MS (${renewMs}) must be below LEDGER_PROJECTOR_LEASE_TTL_MS (${ttlMs})`,
    );
  }
  const log = env.LEDGER_PROJECTOR_COMMIT_LOG ?? '';
  if (!['', '0', '1'].includes(log))
    throw new ConfigurationError(`LEDGER_PROJECTOR_COMMIT_LOG must be 0 or 1, not "${log}"`);
  return { ttlMs, renewMs, commitLog: log === '1' };
}
