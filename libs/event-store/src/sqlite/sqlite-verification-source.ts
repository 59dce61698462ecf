import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Database, Statement } from 'better-sqlite3';
import { hash as oneShotHash } from 'node:crypto';
import type {
  RawEventRow,
  ScannedEvent,
  StreamHeadRow,
  VerificationSnapshot,
  VerificationSource,
} from '@app/ledger';
import { BOUND_LIMIT, openSqlite } from './open-sqlite';

const DEFAULT_BATCH = 10_000;
/** Below this many events the threads cost more to start than they save. */
const DEFAULT_PARALLEL_THRESHOLD = 200_000;
/** Read-only memory mapping of the file: pages are read in place instead of copied into SQLite's cache. */
const MMAP_BYTES = 0x7fff0000;

const ROW_COLUMNS =
  'position, stream, revision, type, schema_version AS schemaVersion, data, metadata, canonical, hash';

/**
 * columnsMatchCanonical (libs/ledger/src/audit/verify/ledger-verifier.ts) in SQL: the canonical bytes equal
 * the JCS envelope around the stored data and metadata minus `,"hash":"<hash column>"`. Done here, the large
 * data and metadata texts never become JavaScript strings: reading them out costs more than hashing.
 * json_quote quotes every stream and type name a ledger writes as JCS does; an exotic one it does not only
 * sends the event to the parsing diagnosis, which has the last word.
 */
const COLUMNS_MATCH = `canonical = '{"data":' || data || ',"metadata":' ||
  replace(metadata, ',"hash":"' || hash || '"', '') || ',"revision":' || revision ||
  ',"schemaVersion":' || schema_version || ',"stream":' || json_quote(stream) || ',"type":' ||
  json_quote(type) || '}' AND instr(metadata, ',"hash":"' || hash || '"') > 0`;

const PREV_HASH_MEMBER = ',"prevHash":"';

/**
 * The check of one event, in the thread that runs it: the columns match (SQL above), the canonical bytes
 * hash to the stored hash. prevHash is metadata's own: the last occurrence in valid JCS.
 */
function checkRow(row: [number, string, number, string, string, number | null]): ScannedEvent {
  const canonical = row[3];
  const at = canonical.lastIndexOf(PREV_HASH_MEMBER);
  const intact = row[5] === 1 && oneShotHash('sha256', canonical, 'hex') === row[4];
  return [row[0], row[1], row[2], at < 0 ? '' : canonical.substr(at + 13, 64), row[4], intact];
}

/**
 * A checking thread of the parallel scan: the same check as checkRow over a range of positions, answering
 * the positions that fail. Plain JavaScript run with `eval`, so a thread starts in milliseconds, loading
 * only better-sqlite3. It also fails an event whose canonical bytes hold `,"prevHash":"` twice: the main
 * thread reads the first occurrence in SQL, which is metadata's own only when there is exactly one.
 */
const CHECK_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('mmap_size = ${MMAP_BYTES}');
const select = db.prepare(workerData.sql).raw(true);
const member = '${PREV_HASH_MEMBER}';
const failures = [];
let checked = 0;
let after = workerData.from;
for (;;) {
  const rows = select.all(after, workerData.to, workerData.batch);
  if (rows.length === 0) break;
  for (const row of rows) {
    checked++;
    const canonical = row[1];
    const at = canonical.indexOf(member);
    if (row[3] !== 1 || hash('sha256', canonical, 'hex') !== row[2] || at < 0 ||
        at !== canonical.lastIndexOf(member)) failures.push(row[0]);
  }
  after = rows[rows.length - 1][0];
}
db.close();
parentPort.postMessage({ checked, failures });
`;

export interface SqliteVerificationOptions {
  /** Rows per read; the event loop runs between batches, so a server passes fewer than the CLI. */
  batchSize?: number;
  /** Checking threads for a whole-ledger scan (default: CPUs - 1, 1 to 3; 0 = check in this thread). */
  threads?: number;
  /** Ledgers with fewer events are checked in this thread. */
  parallelThreshold?: number;
}

/**
 * Chain verification's raw reader of the embedded ledger: its own read-only connection, one read
 * transaction (a WAL snapshot, so events and stream heads are seen as of one commit while appends go on),
 * rows in position order in large batches, raw tuples; the event loop is yielded between batches.
 *
 * A whole-ledger scan of a large ledger is split: threads check the events themselves (columns, hash) over
 * ranges of positions up to the snapshot's last one (rows below it never change), while this thread reads
 * only what the chains need (stream, revision, prevHash, hash) and checks the chains. Should a thread find a
 * broken event, the verifier scans again in this thread alone to name everything exactly.
 */
export class SqliteVerificationSource implements VerificationSource {
  readonly densePositions = true;

  constructor(
    private readonly file: string,
    private readonly options: SqliteVerificationOptions = {},
  ) {}

  async snapshot<T>(
    use: (snapshot: VerificationSnapshot) => Promise<T>,
    options: { parallel?: boolean; stream?: string } = {},
  ): Promise<T> {
    const db = openSqlite(this.file, { readonly: true });
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    try {
      db.exec('BEGIN');
      try {
        const batchSize = this.options.batchSize ?? DEFAULT_BATCH;
        // This thread has the chains to scan: one core fewer for the checking threads.
        const threads = this.options.threads ?? Math.max(1, Math.min(3, availableParallelism() - 1));
        let checking: CheckingThreads | undefined;
        if (options.parallel && options.stream === undefined && threads > 0) {
          const { count, last } = db
            .prepare<[], { count: number; last: number | null }>(
              'SELECT COUNT(*) AS count, MAX(position) AS last FROM events',
            )
            .get()!;
          if (count >= (this.options.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD) && last !== null) {
            checking = new CheckingThreads(this.file, last, threads, batchSize);
          }
        }
        try {
          return await use(new SqliteSnapshot(db, batchSize, checking));
        } finally {
          await checking?.stop();
        }
      } finally {
        if (db.inTransaction) db.exec('COMMIT');
      }
    } finally {
      db.close();
    }
  }
}

type ScanRow = [number, string, number, string, string, number | null];

class SqliteSnapshot implements VerificationSnapshot {
  private readonly byPosition: Statement<[number], RawEventRow>;
  readonly checkingThreads: number;

  constructor(
    private readonly db: Database,
    private readonly batchSize: number,
    private readonly checking: CheckingThreads | undefined,
  ) {
    this.byPosition = db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE position = ?`);
    this.checkingThreads = checking?.threads ?? 0;
  }

  async count(stream?: string): Promise<number> {
    const row =
      stream === undefined
        ? this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM events').get()
        : this.db
            .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM events WHERE stream = ?')
            .get(stream);
    return row?.n ?? 0;
  }

  async *batches(stream?: string): AsyncIterable<ScannedEvent[]> {
    const where = stream === undefined ? 'position > ?' : 'stream = ? AND position > ?';
    const checked = !this.checking;
    // Checked here: the columns comparison and the canonical bytes to hash. Checked by the threads: only
    // what the chains need, prevHash cut out of the (shorter) metadata in SQL; the threads fail any event
    // whose bytes hold the member more than once, and metadata is inside the bytes.
    const columns = checked
      ? `position, stream, revision, canonical, hash, ${COLUMNS_MATCH}`
      : `position, stream, revision, substr(metadata, instr(metadata, '${PREV_HASH_MEMBER}') + 13, 64), hash`;
    const select = this.db
      .prepare<unknown[], ScanRow>(
        `SELECT ${columns} FROM events WHERE ${where} ORDER BY position ${BOUND_LIMIT}`,
      )
      .raw(true);
    let after = 0;
    for (;;) {
      const rows =
        stream === undefined ? select.all(after, this.batchSize) : select.all(stream, after, this.batchSize);
      if (rows.length === 0) return;
      if (checked) yield rows.map(checkRow);
      else {
        for (const row of rows) (row as unknown as ScannedEvent)[5] = true;
        yield rows as unknown as ScannedEvent[];
      }
      if (rows.length < this.batchSize) return;
      after = rows[rows.length - 1][0];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  deferredFailures(): Promise<number[]> {
    return this.checking ? this.checking.failures() : Promise.resolve([]);
  }

  async row(position: number): Promise<RawEventRow | null> {
    return this.byPosition.get(position) ?? null;
  }

  async heads(stream?: string): Promise<StreamHeadRow[]> {
    const sql =
      'SELECT stream, revision, last_hash AS lastHash, last_position AS lastPosition FROM streams' +
      (stream === undefined ? '' : ' WHERE stream = ?');
    const statement = this.db.prepare<unknown[], StreamHeadRow>(sql);
    return stream === undefined ? statement.all() : statement.all(stream);
  }
}

/** Threads checking positions (0, last] in contiguous ranges; a thread that fails counts as a failure. */
class CheckingThreads {
  private readonly workers: Worker[] = [];
  private readonly results: Promise<number[]>;
  readonly threads: number;

  constructor(file: string, last: number, threads: number, batch: number) {
    const sql =
      `SELECT position, canonical, hash, ${COLUMNS_MATCH} FROM events ` +
      `WHERE position > ? AND position <= ? ORDER BY position ${BOUND_LIMIT}`;
    const size = Math.ceil(last / threads);
    const runs: Promise<number[]>[] = [];
    for (let from = 0; from < last; from += size) {
      const to = Math.min(last, from + size);
      const worker = new Worker(CHECK_THREAD, {
        eval: true,
        workerData: { driver: require.resolve('better-sqlite3'), file, sql, from, to, batch },
      });
      this.workers.push(worker);
      runs.push(
        new Promise<number[]>((resolve) => {
          // Missing positions are the chain scan's business (it names them); only broken events count.
          worker.once('message', (message: { checked: number; failures: number[] }) =>
            resolve(message.failures),
          );
          // A thread that cannot check its range leaves it unproven: the sequential scan will.
          worker.once('error', () => resolve([to]));
          worker.once('exit', () => resolve([to]));
        }),
      );
    }
    this.threads = this.workers.length;
    this.results = Promise.all(runs).then((lists) => lists.flat());
  }

  failures(): Promise<number[]> {
    return this.results;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
