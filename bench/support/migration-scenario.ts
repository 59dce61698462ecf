import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteDigestStore, SqliteEventStore, SqliteIdempotencyStore } from '@app/event-store';
import {
  checkDigestSignature,
  DigestPublisher,
  generateApiKey,
  leafHash,
  LedgerProofs,
  MerkleTreeBuilder,
  resolveSigningKey,
  systemClock,
  verifyConsistencyDocument,
  verifyProofDocument,
  type EventStore,
  type NewEvent,
  type SignedDigest,
  type StoredEvent,
} from '@app/ledger';
import { SqliteApiKeyStore } from '@app/read-store';
import { appendLedgerHistory } from './ledger-history';

const repoRoot = join(__dirname, '..', '..');

export interface SourceLedger {
  events: number;
  /** A digest published before the last tenth of the events: the one an auditor holds. */
  heldDigest: SignedDigest;
  apiKeys: number;
  idempotencyRecords: number;
}

/** A charge recorded with an Idempotency-Key, as POST /charges does. */
function keyedEvent(n: number): NewEvent {
  return {
    type: 'ChargeSucceeded',
    schemaVersion: 1,
    data: {
      chargeId: `chkeyed${n}`,
      customerId: `cukeyed${n % 5}`,
      amount: 1000 + n,
      currency: 'EUR',
      method: 'card',
      provider: 'stripe',
    },
    metadata: {
      eventId: randomUUID(),
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      actor: { kind: 'service', id: 'scenario' },
      correlationId: randomUUID(),
      causationId: null,
      idempotencyKey: `key-${n}`,
      schemaVersion: 1,
    },
  };
}

/** Publishes a digest of everything appended so far, with the key kept in the file (made on first use). */
async function publishDigest(db: Database, events: EventStore): Promise<SignedDigest> {
  const tree = new SqliteDigestStore(db);
  const { key } = await resolveSigningKey(undefined, tree, systemClock);
  return new DigestPublisher(
    new MerkleTreeBuilder(events, tree, { batchSize: 5000 }),
    tree,
    key,
    systemClock,
  ).publish();
}

/**
 * An embedded ledger as a running one leaves it: a generated history (charges, issues, churn), API keys, a
 * signing key and a digest published at nine tenths of it, then keyed commands whose idempotency records
 * name their events' positions.
 */
export async function buildSourceLedger(
  dataDir: string,
  options: { events: number; seed: number; onProgress?: (appended: number) => void },
): Promise<SourceLedger> {
  const db = openSqlite(join(dataDir, 'ledger.db'));
  db.pragma('synchronous = NORMAL');
  const store = new SqliteEventStore(db);
  try {
    const keyed = Math.max(10, Math.floor(options.events / 100));
    await appendLedgerHistory(store, options.seed, Math.floor(options.events * 0.9), options.onProgress);
    const keys = new SqliteApiKeyStore(db);
    await generateApiKey(keys, { name: 'service', roles: ['service'] });
    await generateApiKey(keys, { name: 'auditor', roles: ['auditor'] });
    const heldDigest = await publishDigest(db, store);
    await new SqliteIdempotencyStore(db).fingerprintKey();
    for (let n = 0; n < keyed; n++) {
      await store.append(`charge-chkeyed${n}`, [keyedEvent(n)], 'no_stream', {
        idempotency: { scope: `scope-${n}`, requestHash: `request-${n}`, status: 201, extra: { n } },
      });
    }
    // The generator gives about what it is asked for (it skips a second churn of a customer): top up.
    for (let seed = options.seed + 1; Number(await store.headPosition()) < options.events; seed++) {
      const appended = Number(await store.headPosition());
      await appendLedgerHistory(store, seed, options.events - appended, options.onProgress);
    }
    return {
      events: Number(await store.headPosition()),
      heldDigest,
      apiKeys: 2,
      idempotencyRecords: keyed,
    };
  } finally {
    await store.close();
    db.close();
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ledger <args>` (scripts/ledger.mjs, as `npm run ledger` does). `onStderr` sees stderr as it comes,
 * with a kill() that sends SIGKILL: a crash in the middle, not a shutdown the command could tidy up after.
 */
export function runLedger(
  args: string[],
  onStderr?: (text: string, kill: () => void) => void,
  extraEnv: Record<string, string> = {},
): Promise<CliRun> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LEDGER_'))),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/ledger.mjs'), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onStderr?.(stderr, () => child.kill('SIGKILL'));
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The number of events the latest progress line of `ledger migrate` reports as imported. */
export function importedSoFar(stderr: string): number {
  const matches = [...stderr.matchAll(/importing events ([\d,]+) \//g)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? 0 : Number(last.replaceAll(',', ''));
}

export interface MigrationCheck {
  /** Events equal column by column (stream, revision, id, type, data, metadata, canonical, hash, position). */
  events: number;
  streams: number;
  /** Target leaves equal to SHA-256(0x00 ‖ hash) of the source's events, sequence = position - 1. */
  leaves: number;
  /** Rows equal in each copied table. */
  copied: Record<string, number>;
  /** The held digest: inclusion proofs of events in it against it, a consistency proof from it to a new digest. */
  heldDigestVerifies: boolean;
  newDigest: SignedDigest;
}

const EVENT_COLUMNS =
  'position, stream, revision, event_id, type, schema_version, data, metadata, canonical, hash, recorded_at, idempotency_key';

function rows(db: Database, sql: string): unknown[] {
  return db.prepare(sql).all();
}

function sameRows(source: Database, target: Database, sql: string, what: string): number {
  const left = rows(source, sql);
  const right = rows(target, sql);
  expectEqual(JSON.stringify(right), JSON.stringify(left), what);
  return left.length;
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what} differ between the source and the target`);
}

const exported = (event: StoredEvent) => ({ ...event, position: event.position.toString() });

/**
 * Checks a finished migration between two embedded ledgers from the files themselves, not from the
 * command's report, then publishes a digest on the target and proves the held one against it.
 */
export async function checkMigration(
  sourceDir: string,
  targetDir: string,
  held: SignedDigest,
): Promise<MigrationCheck> {
  const source = openSqlite(join(sourceDir, 'ledger.db'), { readonly: true });
  const target = openSqlite(join(targetDir, 'ledger.db'));
  const events = new SqliteEventStore(target);
  try {
    const eventCount = sameRows(
      source,
      target,
      `SELECT ${EVENT_COLUMNS} FROM events ORDER BY position`,
      'events',
    );
    const streams = sameRows(source, target, 'SELECT * FROM streams ORDER BY stream', 'stream heads');
    const copied: Record<string, number> = {};
    for (const [table, order] of [
      ['api_keys', 'id'],
      ['merkle_signing_key', 'id'],
      ['merkle_digests', 'tree_size'],
      ['idempotency', 'scope'],
      ['idempotency_fingerprint_key', 'id'],
    ] as const) {
      copied[table] = sameRows(source, target, `SELECT * FROM ${table} ORDER BY ${order}`, table);
    }
    const expectedLeaves = source
      .prepare<[], { sequence: number; event_id: string; hash: string }>(
        'SELECT position - 1 AS sequence, event_id, hash FROM events ORDER BY position',
      )
      .all()
      .map((row) => [row.sequence, row.event_id, row.hash, leafHash(row.hash).toString('hex')]);
    const leaves = target
      .prepare<[], { sequence: number; event_id: string; event_hash: string; leaf_hash: Buffer }>(
        'SELECT sequence, event_id, event_hash, leaf_hash FROM merkle_leaves ORDER BY sequence',
      )
      .all()
      .map((row) => [row.sequence, row.event_id, row.event_hash, row.leaf_hash.toString('hex')]);
    expectEqual(JSON.stringify(leaves), JSON.stringify(expectedLeaves), 'Merkle leaves');

    const newDigest = await publishDigest(target, events);
    const proofs = new LedgerProofs(new SqliteDigestStore(target));
    const inDigest = await events.readAll({ maxCount: held.treeSize });
    const samples = [inDigest[0], inDigest[Math.floor(inDigest.length / 2)], inDigest[inDigest.length - 1]];
    let heldDigestVerifies = (await checkDigestSignature(newDigest, held.publicKey)).ok;
    for (const event of samples) {
      const answer = await proofs.inclusion(event.metadata.eventId, held.treeSize);
      const report = await verifyProofDocument(
        { ...answer, digest: held, event: exported(event) },
        held.publicKey,
      );
      heldDigestVerifies &&= report.ok;
    }
    const consistency = await proofs.consistency(held.treeSize, newDigest.treeSize);
    heldDigestVerifies &&= (await verifyConsistencyDocument(held, consistency, held.publicKey)).ok;
    return { events: eventCount, streams, leaves: leaves.length, copied, heldDigestVerifies, newDigest };
  } finally {
    await events.close();
    target.close();
    source.close();
  }
}
