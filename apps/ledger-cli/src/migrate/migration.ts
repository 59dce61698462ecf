import type { Database } from 'better-sqlite3';
import { SqliteDigestStore, SqliteIdempotencyStore } from '@app/event-store';
import {
  checkDigestSignature,
  leafHash,
  MerkleTreeBuilder,
  parseSigningKey,
  publicKeyPem,
  storedConsistencyProof,
  storedInclusionProof,
  storedRoot,
  verifyConsistency,
  verifyInclusion,
  type EventStore,
  type SignedDigest,
  type StoredEvent,
} from '@app/ledger';
import { SqliteApiKeyStore } from '@app/read-store';
import {
  COPIED_TABLES,
  copyTable,
  OPERATIONAL_TABLES,
  rowCount,
  tablesLeftBehind,
  tablesOf,
  type CopyOutcome,
} from './ledger-tables';

/** One side of a migration: its events through the port, and the SQLite file of everything else. */
export interface MigrationEndpoint {
  events: EventStore;
  /** The embedded ledger file (source), or the target's: for an EventStoreDB target, the one in its data dir. */
  db: Database;
  engine: 'sqlite' | 'eventstoredb';
  /** What messages call it (never a connection string's credentials). */
  name: string;
}

export type MigrationPhase = 'count' | 'events' | 'compare' | 'tree';

export interface MigrationProgress {
  phase: MigrationPhase;
  done: number;
  total: number;
  /** Events per second of this run in this phase. */
  rate: number;
}

export interface MigrationOptions {
  /** Source events read and imported per batch (one import call each). */
  batchSize: number;
  /** At most this many events per second are imported (a production server shared with others); none: no limit. */
  maxRate?: number;
  /** LEDGER_SIGNING_KEY, when set. */
  signingKey?: string;
  onProgress(progress: MigrationProgress): void;
}

export interface MigrationReport {
  events: {
    total: number;
    /** Events the target already held from an interrupted run, imported again by none. */
    resumedFrom: number;
    imported: number;
    seconds: number;
    eventsPerSecond: number;
  };
  verified: {
    /** Events compared one by one, in ledger order: stream, revision, id, hash and canonical bytes. */
    events: number;
    treeSize: number;
    rootHash: string | null;
    /** Leaves of the source's own Merkle tree compared with the target's (the source builds its tree as it runs). */
    leavesComparedWithSource: number;
    /** Published digests whose root the target's tree gives, signature checked, with proofs against the latest. */
    digests: number;
  };
  copied: CopyOutcome[];
  signingKey: 'copied' | 'LEDGER_SIGNING_KEY' | 'none';
  notMoved: string[];
  rebuiltAtStart: string[];
}

/** The migration cannot run as asked; nothing was written. */
export class MigrationRefusedError extends Error {
  override readonly name = 'MigrationRefusedError';
}

/** The target differs from the source after the import: named here, the target must not be used. */
export class MigrationMismatchError extends Error {
  override readonly name = 'MigrationMismatchError';
}

interface DigestRow {
  tree_size: number;
  root_hash: string;
  created_at: string;
  signature: string;
  public_key: string;
  algorithm: string;
}

const toDigest = (row: DigestRow): SignedDigest => ({
  treeSize: row.tree_size,
  rootHash: row.root_hash,
  createdAt: row.created_at,
  signature: row.signature,
  publicKey: row.public_key,
  algorithm: 'Ed25519',
});

function digestsOf(db: Database): SignedDigest[] {
  if (!tablesOf(db).includes('merkle_digests')) return [];
  return db
    .prepare<[], DigestRow>('SELECT * FROM merkle_digests ORDER BY tree_size')
    .all()
    .map((row) => ({ ...toDigest(row), algorithm: row.algorithm as SignedDigest['algorithm'] }));
}

const normalisePem = (pem: string) => pem.replace(/\s+/g, '');

/**
 * Refuses a source that a migration would not move whole: tables it does not know (they would be left
 * behind), or digests signed with a configured key that is not given. Answers where the signing key is.
 * Runs before the target is opened, so a refusal writes nothing anywhere.
 */
export function checkSource(db: Database, signingKey: string | undefined): MigrationReport['signingKey'] {
  const leftBehind = tablesLeftBehind(db);
  if (leftBehind.length > 0) {
    throw new MigrationRefusedError(
      `The source holds tables this version does not know how to move: ${leftBehind.join(', ')}. ` +
        'They would be left behind, so nothing was migrated.',
    );
  }
  const stored = rowCount(db, 'merkle_signing_key') > 0;
  const latest = digestsOf(db).at(-1);
  const configured = signingKey?.trim() ? signingKey : undefined;
  if (latest && !stored && !configured) {
    throw new MigrationRefusedError(
      "The source's published digests are signed with a configured key (LEDGER_SIGNING_KEY), which is not " +
        'in its ledger.db: set LEDGER_SIGNING_KEY to that key for this command (and for the target ledger), ' +
        'so that the target goes on signing with it. Nothing was migrated.',
    );
  }
  if (latest && configured && !stored) {
    const publicKey = publicKeyPem(parseSigningKey(configured));
    if (normalisePem(publicKey) !== normalisePem(latest.publicKey)) {
      throw new MigrationRefusedError(
        "LEDGER_SIGNING_KEY is not the key of the source's latest digest: set the key the digests were " +
          'signed with. Nothing was migrated.',
      );
    }
  }
  return stored ? 'copied' : configured ? 'LEDGER_SIGNING_KEY' : 'none';
}

/**
 * Moves an embedded ledger to another store (docs/migration.md): every event through `importEvents`, in
 * ledger order, a batch at a time; then compares the two ledgers event by event, copies what a ledger
 * cannot work without, builds the target's Merkle tree and checks every published digest against it. Run
 * again after an interruption, it resumes after the target's last event, which must be the source's.
 */
export class Migration {
  /** Events found equal by compare(). */
  private compared = 0;

  constructor(
    private readonly source: MigrationEndpoint,
    private readonly target: MigrationEndpoint,
    private readonly options: MigrationOptions,
  ) {}

  async run(): Promise<MigrationReport> {
    const signingKey = checkSource(this.source.db, this.options.signingKey);
    const total = await this.countSource();
    const { done: resumedFrom, after } = await this.resumePoint();
    const importStarted = Date.now();
    const imported = await this.importEvents(resumedFrom, after, total);
    const importSeconds = (Date.now() - importStarted) / 1000;
    const positions = await this.compare(total);
    const copied = this.copyTables(positions);
    const verified = await this.verifyTree(total);
    return {
      events: {
        total: total,
        resumedFrom,
        imported,
        seconds: round(importSeconds),
        eventsPerSecond: Math.round(imported / Math.max(importSeconds, 0.001)),
      },
      verified,
      copied,
      signingKey,
      notMoved: [...OPERATIONAL_TABLES],
      rebuiltAtStart: ['read models (rm_* tables): the projector projects every event at its first start'],
    };
  }

  /**
   * The source's events up to a position (all without one). Embedded positions are dense from 1, so the
   * position is the count; on EventStoreDB they are log offsets, and the events are counted.
   */
  private async countSource(upTo?: bigint): Promise<number> {
    if (this.source.engine === 'sqlite') {
      return Math.max(Number(upTo ?? (await this.source.events.headPosition())), 0);
    }
    let counted = 0;
    let from: bigint | undefined;
    for (;;) {
      const page = await this.source.events.readAll({ fromPosition: from, maxCount: this.options.batchSize });
      for (const event of page) {
        if (upTo !== undefined && event.position > upTo) return counted;
        counted++;
      }
      if (page.length === 0) return counted;
      from = page[page.length - 1].position + 1n;
      this.options.onProgress({ phase: 'count', done: counted, total: counted, rate: 0 });
    }
  }

  /**
   * Nothing done for an empty target; after an interrupted run, how many source events the target holds and
   * the source position of the last, once the target's first and last events are found to be the source's.
   * Anything else on the target is refused.
   */
  private async resumePoint(): Promise<{ done: number; after?: bigint }> {
    const { events, engine, name } = this.target;
    const head = await events.headPosition();
    if (head < 0n) {
      const held = COPIED_TABLES.map((table) => [table, rowCount(this.target.db, table)] as const).filter(
        ([, rows]) => rows > 0,
      );
      if (held.length > 0) {
        throw new MigrationRefusedError(
          `The target ${name} is not an empty ledger: it holds ${held
            .map(([table, rows]) => `${rows} ${table} row${rows === 1 ? '' : 's'}`)
            .join(', ')}. Migrate to a new, empty target.`,
        );
      }
      return { done: 0 };
    }
    const notOurs = (detail: string) =>
      new MigrationRefusedError(
        `The target ${name} holds ledger events that are not an interrupted migration of this source ` +
          `(${detail}): migrate to an empty target.`,
      );
    const [first] = await events.readAll({ maxCount: 1 });
    const [sourceFirst] = await this.source.events.readAll({ maxCount: 1 });
    if (!sourceFirst || first?.metadata.hash !== sourceFirst.metadata.hash) {
      throw notOurs('its first event is not the source’s first');
    }
    const [last] = await events.readAll({ fromPosition: head, maxCount: 1 });
    const [same] = await this.source.events.readStream(last.stream, {
      fromRevision: last.revision,
      maxCount: 1,
    });
    if (!same || same.revision !== last.revision || same.metadata.hash !== last.metadata.hash) {
      throw notOurs(`its last event ${last.stream}@${last.revision} is not the source’s`);
    }
    const done = await this.countSource(same.position);
    // Dense positions on an embedded target: its head is how many events it holds.
    if (engine === 'sqlite' && Number(head) !== done) {
      throw notOurs(`it holds ${head} events, the source has ${done} up to ${last.stream}@${last.revision}`);
    }
    return { done, after: same.position };
  }

  private async importEvents(resumedFrom: number, after: bigint | undefined, total: number): Promise<number> {
    const { batchSize, maxRate } = this.options;
    const began = Date.now();
    let imported = 0;
    let from = after === undefined ? undefined : after + 1n;
    for (;;) {
      const batch = await this.source.events.readAll({ fromPosition: from, maxCount: batchSize });
      if (batch.length === 0) break;
      await this.target.events.importEvents(batch);
      imported += batch.length;
      from = batch[batch.length - 1].position + 1n;
      const elapsed = (Date.now() - began) / 1000;
      this.options.onProgress({
        phase: 'events',
        done: resumedFrom + imported,
        total,
        rate: imported / Math.max(elapsed, 0.001),
      });
      if (maxRate !== undefined) {
        const ahead = (imported / maxRate - elapsed) * 1000;
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    }
    return imported;
  }

  /**
   * Reads both ledgers in ledger order, side by side, and compares every event; answers the target's
   * position of each source position an idempotency record names (they differ on another engine).
   */
  private async compare(total: number): Promise<Map<string, string>> {
    const wanted = this.recordedPositions();
    const positions = new Map<string, string>();
    const page = this.options.batchSize;
    const began = Date.now();
    let fromSource: bigint | undefined;
    let fromTarget: bigint | undefined;
    let compared = 0;
    for (;;) {
      const [left, right] = await Promise.all([
        this.source.events.readAll({ fromPosition: fromSource, maxCount: page }),
        this.target.events.readAll({ fromPosition: fromTarget, maxCount: page }),
      ]);
      if (left.length !== right.length) {
        throw new MigrationMismatchError(
          `After ${compared} equal events, the source has ${left.length} more in a page, the target ${right.length}`,
        );
      }
      if (left.length === 0) break;
      left.forEach((event, index) => {
        const other = right[index];
        const difference = differenceOf(event, other);
        if (difference) {
          throw new MigrationMismatchError(
            `Event ${compared + index} (${event.stream}@${event.revision}) differs on the target: ${difference}`,
          );
        }
        const key = event.position.toString();
        if (wanted.has(key)) positions.set(key, other.position.toString());
      });
      compared += left.length;
      fromSource = left[left.length - 1].position + 1n;
      fromTarget = right[right.length - 1].position + 1n;
      this.options.onProgress({
        phase: 'compare',
        done: compared,
        total,
        rate: compared / Math.max((Date.now() - began) / 1000, 0.001),
      });
    }
    if (compared !== total) {
      throw new MigrationMismatchError(`Compared ${compared} events, the source has ${total}`);
    }
    this.compared = compared;
    return positions;
  }

  /** Source positions named by idempotency records' answers ({kind: 'outcome', position}). */
  private recordedPositions(): Set<string> {
    const wanted = new Set<string>();
    if (!tablesOf(this.source.db).includes('idempotency')) return wanted;
    const rows = this.source.db
      .prepare<[], { answer: string }>('SELECT answer FROM idempotency WHERE answer IS NOT NULL')
      .iterate();
    for (const { answer } of rows) {
      const position = outcomePosition(answer);
      if (position !== undefined) wanted.add(position);
    }
    return wanted;
  }

  private copyTables(positions: Map<string, string>): CopyOutcome[] {
    // The target's stores create their tables as the ledger will use them.
    new SqliteApiKeyStore(this.target.db);
    new SqliteIdempotencyStore(this.target.db);
    new SqliteDigestStore(this.target.db);
    return COPIED_TABLES.map((table) =>
      copyTable(
        this.source.db,
        this.target.db,
        table,
        table === 'idempotency' ? (row) => withTargetPosition(row, positions) : undefined,
      ),
    );
  }

  /**
   * Builds the target's Merkle tree and checks it: its leaves against the source's own tree where the source
   * built one, and every published digest of the source: the root at its size, its signature, and for the
   * latest one an inclusion proof of its first and last events and a consistency proof to the whole tree.
   */
  private async verifyTree(total: number): Promise<MigrationReport['verified']> {
    const tree = new SqliteDigestStore(this.target.db);
    const began = Date.now();
    const builder = new MerkleTreeBuilder(this.target.events, tree, {
      batchSize: 5000,
      onProgress: (size) =>
        this.options.onProgress({
          phase: 'tree',
          done: size,
          total,
          rate: size / Math.max((Date.now() - began) / 1000, 0.001),
        }),
    });
    const treeSize = await builder.catchUp();
    if (treeSize !== total) {
      throw new MigrationMismatchError(
        `The target's Merkle tree has ${treeSize} leaves, the source ${total} events`,
      );
    }
    const leavesComparedWithSource = this.compareLeaves();
    const digests = digestsOf(this.source.db);
    for (const digest of digests) {
      const root =
        treeSize >= digest.treeSize ? (await storedRoot(tree, digest.treeSize)).toString('hex') : null;
      if (root !== digest.rootHash) {
        throw new MigrationMismatchError(
          `The digest of tree size ${digest.treeSize} has root ${digest.rootHash}; the target's tree gives ${root}`,
        );
      }
      const signature = await checkDigestSignature(digest);
      if (!signature.ok) {
        throw new MigrationMismatchError(`The digest of tree size ${digest.treeSize} is not validly signed`);
      }
    }
    const latest = digests.at(-1);
    if (latest && latest.treeSize > 0) {
      const oldRoot = Buffer.from(latest.rootHash, 'hex');
      for (const index of new Set([0, latest.treeSize - 1])) {
        const leaf = await tree.leafBySequence(index);
        const proof = await storedInclusionProof(tree, index, latest.treeSize);
        if (
          !leaf ||
          !(await verifyInclusion(index, latest.treeSize, leafHash(leaf.eventHash), proof, oldRoot))
        ) {
          throw new MigrationMismatchError(
            `Leaf ${index} does not verify against the digest of size ${latest.treeSize}`,
          );
        }
      }
      const newRoot = await storedRoot(tree, treeSize);
      const proof = await storedConsistencyProof(tree, latest.treeSize, treeSize);
      if (!(await verifyConsistency(latest.treeSize, treeSize, oldRoot, newRoot, proof))) {
        throw new MigrationMismatchError(
          `The target's tree of size ${treeSize} is not consistent with the digest of size ${latest.treeSize}`,
        );
      }
    }
    return {
      events: this.compared,
      treeSize,
      rootHash: treeSize > 0 ? (await storedRoot(tree, treeSize)).toString('hex') : null,
      leavesComparedWithSource,
      digests: digests.length,
    };
  }

  /** The source's leaves (as far as its tree was built) against the target's: sequence, event, hashes. */
  private compareLeaves(): number {
    if (!tablesOf(this.source.db).includes('merkle_leaves')) return 0;
    const sql = 'SELECT sequence, event_id, event_hash, leaf_hash FROM merkle_leaves ORDER BY sequence';
    type Leaf = { sequence: number; event_id: string; event_hash: string; leaf_hash: Buffer };
    const theirs = this.target.db.prepare<[], Leaf>(sql).iterate();
    let compared = 0;
    for (const leaf of this.source.db.prepare<[], Leaf>(sql).iterate()) {
      const other = theirs.next();
      const target = other.done ? undefined : other.value;
      if (
        !target ||
        target.sequence !== leaf.sequence ||
        target.event_id !== leaf.event_id ||
        target.event_hash !== leaf.event_hash ||
        !target.leaf_hash.equals(leaf.leaf_hash)
      ) {
        theirs.return?.();
        throw new MigrationMismatchError(
          `Leaf ${leaf.sequence} differs between the source's tree and the target's`,
        );
      }
      compared++;
    }
    theirs.return?.();
    return compared;
  }
}

function differenceOf(source: StoredEvent, target: StoredEvent | undefined): string | null {
  if (!target) return 'missing';
  if (target.stream !== source.stream || target.revision !== source.revision) {
    return `the target has ${target.stream}@${target.revision} there`;
  }
  if (target.metadata.eventId !== source.metadata.eventId) return 'another event id';
  if (target.metadata.hash !== source.metadata.hash) return 'another hash';
  if (target.canonical !== source.canonical) return 'other canonical bytes';
  return null;
}

function outcomePosition(answer: string): string | undefined {
  const parsed: unknown = JSON.parse(answer);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { kind, position } = parsed as { kind?: unknown; position?: unknown };
  return kind === 'outcome' && typeof position === 'string' ? position : undefined;
}

/** An idempotency record names the position of its events: the target's, where the engines' differ. */
function withTargetPosition(
  row: Record<string, unknown>,
  positions: Map<string, string>,
): Record<string, unknown> {
  if (typeof row.answer !== 'string') return row;
  const position = outcomePosition(row.answer);
  const moved = position === undefined ? undefined : positions.get(position);
  if (moved === undefined || moved === position) return row;
  const answer = JSON.parse(row.answer) as Record<string, unknown>;
  return { ...row, answer: JSON.stringify({ ...answer, position: moved }) };
}

const round = (value: number) => Math.round(value * 100) / 100;
