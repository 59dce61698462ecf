import type { Database, Statement, Transaction } from 'better-sqlite3';
import {
  CheckpointMismatchError,
  InvalidReadQueryError,
  type CollectionSpec,
  type DocumentChange,
  type FieldFilter,
  type IndexedValue,
  type ListQuery,
  type Page,
  type ProjectionCommit,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '@app/ledger';
import { decodeCursor, encodeCursor, listQueryShape, validateLimit } from '../list-query';

export interface SqliteReadModelStoreOptions {
  /** Documents read per query while scan() walks a collection. */
  scanPageSize?: number;
  /** Close the database handle in close(); only for a handle nobody else holds. */
  closeDatabase?: boolean;
  /**
   * Fault injection for tests (docs/read-store.md): called inside every live commit() transaction, after
   * the changes and the new checkpoint are written and just before COMMIT. A throw rolls the commit back;
   * a process killed here loses exactly that batch. Not called for staged (rebuild) commits.
   */
  beforeCommit?: (projection: string, to: bigint) => void;
  /**
   * Called inside every live commit's transaction on this connection, once the checkpoint is found at
   * `from` and before anything is written: a throw refuses that commit alone, writing nothing. The
   * standalone projector checks its lease token here (docs/projections.md "Leases"), so a writer that
   * lost its lease cannot commit; it may also record the committed range in the same transaction.
   */
  guard?: (commit: { projection: string; from: bigint; to: bigint }) => void;
  /**
   * Runs each write transaction of this store, outermost only: the threads of a parallel rebuild pass their
   * shared mutex, so that they take SQLite's write lock in turn (instead of backing off in its busy handler)
   * and hold it for the transaction alone, documents being serialised before it.
   */
  writeLock?: <T>(work: () => T) => T;
}

/** A staged generation was promoted, discarded, or replaced by a newer stage() of its projection. */
export class StagedGenerationGoneError extends Error {
  override readonly name = 'StagedGenerationGoneError';
  constructor(
    readonly projection: string,
    readonly generation: number,
  ) {
    super(
      `Generation ${generation} staged for ${projection} no longer exists: it was promoted, discarded ` +
        'or replaced by a newer stage()',
    );
  }
}

const DEFAULT_SCAN_PAGE_SIZE = 500;
/** WAL pages (of 4 KiB) before a staged commit checkpoints: 40 MiB, against SQLite's default 1,000. */
const RELAXED_AUTOCHECKPOINT_PAGES = 10_000;
const STATEMENT_CACHE_SIZE = 256;
const COLLECTION_NAME = /^[a-z][a-z0-9_]*$/;
/** No `__`: index names are `rmi_<collection>__g<generation>__<field>` and must stay unambiguous. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/;
const RANGE_OPERATORS = new Set(['gt', 'gte', 'lt', 'lte']);

type SqlValue = string | number | null;
/** Positions bind as bigint: better-sqlite3 passes them to SQLite as 64-bit integers. */
type SqlParam = SqlValue | bigint;
type Direction = 'asc' | 'desc';

interface RegistryRow {
  generation: number;
  indexes: string;
}

interface StagedRow {
  generation: number;
  collections: string;
}

interface DocumentRow {
  id: string;
  doc: string;
  sort_key: SqlValue;
}

/** A collection's storage in one generation, resolved inside the transaction that uses it. */
interface TableRef {
  collection: string;
  table: string;
  indexes: readonly string[];
}

/** The last row of a page: where the next one starts. */
interface SortKey {
  value: SqlValue;
  id: string;
}

interface CompiledQuery {
  conditions: string[];
  params: SqlValue[];
  field: string;
  column: string;
  direction: Direction;
}

const tableName = (collection: string, generation: number) => `rm_${collection}__g${generation}`;
const indexName = (table: string, field: string) => `rmi_${table.slice('rm_'.length)}__${field}`;
/**
 * Each indexed field has a key column `k_<field>` holding the document's value (booleans as 1/0, like
 * json_extract), written by commit() beside the document. Tables made before this layout hold them as
 * virtual generated columns instead (json_extract of doc); both are queried alike.
 */
const keyColumn = (field: string) => `k_${field}`;
const quote = (identifier: string) => `"${identifier}"`;

const invalid = (message: string) => new InvalidReadQueryError(message);

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function validateSpecs(specs: readonly CollectionSpec[]): CollectionSpec[] {
  return specs.map((spec) => {
    if (!COLLECTION_NAME.test(spec.name)) {
      throw new Error(`Collection name ${JSON.stringify(spec.name)} does not match ${COLLECTION_NAME}`);
    }
    const indexes = [...new Set(spec.indexes.filter((field) => field !== 'id'))];
    assertIndexable(spec.name, indexes);
    if (spec.sortedBy !== undefined && !indexes.includes(spec.sortedBy)) {
      throw new Error(`${spec.name} is sorted by ${JSON.stringify(spec.sortedBy)}, which it does not index`);
    }
    return spec.sortedBy === undefined
      ? { name: spec.name, indexes }
      : { name: spec.name, indexes, sortedBy: spec.sortedBy };
  });
}

function assertIndexable(collection: string, fields: readonly string[]): void {
  const seen = new Set<string>();
  for (const field of fields) {
    if (!FIELD_NAME.test(field)) {
      throw new Error(`Indexed field ${JSON.stringify(field)} of ${collection} does not match ${FIELD_NAME}`);
    }
    // SQLite column and index names ignore case; JSON field names do not.
    const folded = field.toLowerCase();
    if (seen.has(folded)) throw new Error(`${collection} indexes two fields named ${field} up to case`);
    seen.add(folded);
  }
}

function isIndexedValue(value: unknown): value is string | number | boolean | null {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** better-sqlite3 binds no booleans; json_extract() reads JSON true/false as 1/0, so bind those. */
function toSql(value: string | number | boolean | null): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

function checkedValue(field: string, value: unknown): SqlValue {
  if (!isIndexedValue(value)) {
    throw invalid(`Filter on ${field}: ${show(value)} is not a string, number, boolean or null`);
  }
  if (field === 'id' && typeof value !== 'string') throw invalid('Filters on id take strings');
  return toSql(value);
}

function filterCondition(
  field: string,
  column: string,
  filter: FieldFilter,
): { sql: string; params: SqlValue[] } {
  if (typeof filter !== 'object' || filter === null) {
    const value = checkedValue(field, filter);
    return value === null
      ? { sql: `${column} IS NULL`, params: [] }
      : { sql: `${column} = ?`, params: [value] };
  }
  if (Array.isArray(filter)) throw invalid(`Filter on ${field}: use { in: [...] } for a list of values`);
  const operators = Object.keys(filter);
  if ('in' in filter) {
    if (operators.length !== 1)
      throw invalid(`Filter on ${field}: "in" does not combine with other operators`);
    if (!Array.isArray(filter.in)) throw invalid(`Filter on ${field}: "in" takes an array`);
    const values = filter.in.map((value) => checkedValue(field, value));
    const present = values.filter((value) => value !== null);
    const alternatives: string[] = [];
    // One JSON parameter whatever the list's length; json_each yields the same SQL values as json_extract.
    if (present.length > 0) alternatives.push(`${column} IN (SELECT value FROM json_each(?))`);
    if (present.length < values.length) alternatives.push(`${column} IS NULL`);
    if (alternatives.length === 0) return { sql: '0', params: [] };
    return {
      sql: `(${alternatives.join(' OR ')})`,
      params: present.length > 0 ? [JSON.stringify(present)] : [],
    };
  }
  if (operators.length === 0 || operators.some((operator) => !RANGE_OPERATORS.has(operator))) {
    throw invalid(
      `Filter on ${field}: unknown operator in ${JSON.stringify(operators)}; use in, gt, gte, lt, lte`,
    );
  }
  const bounds = filter as Record<'gt' | 'gte' | 'lt' | 'lte', unknown>;
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const kinds = new Set<string>();
  for (const [operator, symbol] of [
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const) {
    if (!(operator in bounds)) continue;
    const bound = bounds[operator];
    if (typeof bound !== 'string' && !(typeof bound === 'number' && Number.isFinite(bound))) {
      throw invalid(`Filter on ${field}: range bounds are strings or finite numbers, not ${show(bound)}`);
    }
    if (field === 'id' && typeof bound !== 'string') throw invalid('Filters on id take strings');
    kinds.add(typeof bound);
    conditions.push(`${column} ${symbol} ?`);
    params.push(bound);
  }
  if (kinds.size > 1) throw invalid(`Filter on ${field}: range bounds mix strings and numbers`);
  // SQLite orders every number before every string ('' is the least string): these bounds keep a range
  // to its bounds' type, as MongoDB does, while the index still serves it.
  const upper = 'lt' in bounds || 'lte' in bounds;
  const lower = 'gt' in bounds || 'gte' in bounds;
  if (kinds.has('number') && !upper) conditions.push(`${column} < ''`);
  if (kinds.has('string') && !lower && field !== 'id') conditions.push(`${column} >= ''`);
  return { sql: conditions.join(' AND '), params };
}

function columnFor(table: TableRef, field: string, use: string): string {
  if (field === 'id') return 'id';
  // The name goes into SQL: it must be one the spec declared, and of the shape specs are checked for.
  if (typeof field !== 'string' || !FIELD_NAME.test(field) || !table.indexes.includes(field)) {
    throw invalid(
      `Cannot ${use} ${table.collection} by ${JSON.stringify(field)}: indexed fields are id` +
        table.indexes.map((name) => `, ${name}`).join(''),
    );
  }
  return quote(keyColumn(field));
}

function compileQuery(table: TableRef, query: Omit<ListQuery, 'limit' | 'cursor'>): CompiledQuery {
  const { orderBy, where } = listQueryShape(query);
  const column = columnFor(table, orderBy.field, 'sort');
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  for (const [field, filter] of Object.entries(where)) {
    const compiled = filterCondition(field, columnFor(table, field, 'filter'), filter);
    conditions.push(compiled.sql);
    params.push(...compiled.params);
  }
  return { conditions, params, field: orderBy.field, column, direction: orderBy.direction };
}

/**
 * The rows after `after` in (sort value, id) order, as consecutive pieces, since NULL compares as
 * unknown: ascending puts NULLs first (SQLite's default, and MongoDB's), descending last.
 */
function keysetSegments(
  query: CompiledQuery,
  after: SortKey | null,
): { sql: string | null; params: SqlValue[] }[] {
  if (after === null) return [{ sql: null, params: [] }];
  const { column, direction } = query;
  if (column === 'id') return [{ sql: direction === 'asc' ? 'id > ?' : 'id < ?', params: [after.id] }];
  if (after.value === null) {
    return direction === 'asc'
      ? [
          { sql: `${column} IS NULL AND id > ?`, params: [after.id] },
          { sql: `${column} IS NOT NULL`, params: [] },
        ]
      : [{ sql: `${column} IS NULL AND id < ?`, params: [after.id] }];
  }
  return direction === 'asc'
    ? [{ sql: `(${column}, id) > (?, ?)`, params: [after.value, after.id] }]
    : [
        { sql: `(${column}, id) < (?, ?)`, params: [after.value, after.id] },
        { sql: `${column} IS NULL`, params: [] },
      ];
}

/** SQLite sort keys are numbers, strings or NULL (booleans are kept as 0 and 1). */
const isSqlValue = (value: unknown): value is SqlValue =>
  value === null || typeof value === 'string' || typeof value === 'number';

interface DocumentWriter {
  table: TableRef;
  put(id: string, doc: ReadDocument, json: string): void;
  remove(id: string): void;
}

/** A stored key against the value about to be written; SQLite reads 1 back for 1.0, as JS does. */
const sameKey = (stored: SqlValue, next: SqlValue): boolean => stored === next;

/** JSON of a document, made before the write transaction so that the write lock is held for less. */
function toJson(change: DocumentChange, doc: ReadDocument): string {
  try {
    return JSON.stringify(doc);
  } catch (error) {
    throw new Error(`Document ${change.collection}/${change.id} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const jsonOf = (changes: readonly DocumentChange[]) =>
  changes.map((change) => (change.doc === null ? null : toJson(change, change.doc)));

/** Inside the transaction, once the collection's indexes are known. */
function checkDocument(table: TableRef, id: string, doc: ReadDocument): void {
  if (doc.id !== id) {
    throw new Error(`Document ${table.collection}/${id} carries id ${JSON.stringify(doc.id)}`);
  }
  for (const field of table.indexes) {
    const value = doc[field];
    if (value !== undefined && !isIndexedValue(value)) {
      throw new Error(`Document ${table.collection}/${id}: indexed field ${field} holds a non-scalar value`);
    }
  }
}

/** The connection's statements and transactions, shared by a store and the generations it stages. */
class Connection {
  closed = false;
  private readonly statements = new Map<string, Statement<unknown[], unknown>>();
  private readonly layouts = new Map<string, 'stored' | 'generated'>();
  private readonly transaction: Transaction<(work: () => unknown) => unknown>;

  constructor(
    readonly db: Database,
    private readonly writeLock: <T>(work: () => T) => T = (work) => work(),
  ) {
    this.transaction = db.transaction((work: () => unknown) => work());
  }

  /** Prepared once per SQL text (per table and query shape), least recently used evicted. */
  statement<Row = unknown>(sql: string): Statement<SqlParam[], Row> {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        this.statements.delete(this.statements.keys().next().value!);
      }
    }
    this.statements.set(sql, statement);
    return statement as Statement<SqlParam[], Row>;
  }

  forgetTable(table: string): void {
    for (const sql of this.statements.keys()) if (sql.includes(quote(table))) this.statements.delete(sql);
  }

  /** A read transaction: the registry lookup and the query see one snapshot, whatever commits meanwhile. */
  read<T>(work: () => T): T {
    this.assertOpen();
    return this.transaction.deferred(work) as T;
  }

  /** Inside a write transaction: a SAVEPOINT, rolled back alone when `work` throws. */
  savepoint<T>(work: () => T): T {
    return this.transaction(work) as T;
  }

  /** BEGIN IMMEDIATE: the write lock is taken before the checkpoint is read, so racing commits serialise. */
  write<T>(work: () => T): T {
    this.assertOpen();
    const run = () => this.transaction.immediate(work) as T;
    // Nested in an open transaction (a savepoint), the outer write holds the lock already.
    return this.db.inTransaction ? run() : this.writeLock(run);
  }

  /**
   * A write whose COMMIT skips the fsync (synchronous=NORMAL: still atomic and crash-safe, but the last
   * commits may be lost on power failure), and checkpoints the WAL only once it holds
   * RELAXED_AUTOCHECKPOINT_PAGES: a rebuild writes gigabytes, and each checkpoint costs two fsyncs
   * (measured at 1,000,000 events, two threads: 2-4% faster than every 1,000 pages). Both settings are
   * restored before anything else can use the connection.
   */
  relaxedWrite<T>(work: () => T): T {
    if (this.db.inTransaction) return this.write(work);
    const previous = this.db.pragma('synchronous', { simple: true });
    if (typeof previous !== 'number' || previous <= 1) return this.write(work);
    const autocheckpoint = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.db.pragma('synchronous = NORMAL');
    // 0 (automatic checkpoints off) stays off.
    if (autocheckpoint > 0) {
      this.db.pragma(`wal_autocheckpoint = ${Math.max(autocheckpoint, RELAXED_AUTOCHECKPOINT_PAGES)}`);
    }
    try {
      return this.write(work);
    } finally {
      this.db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
      this.db.pragma(`synchronous = ${previous}`);
    }
  }

  assertOpen(): void {
    if (this.closed) throw new Error('The read-model store is closed');
  }

  /**
   * Creates or completes a generation's table: columns and indexes for `fields`. A staged generation is
   * bulk-loaded without its indexes (`withIndexes: false`), which are built once, before it is promoted.
   */
  createTable(table: string, fields: readonly string[], withIndexes = true, sortedBy?: string): void {
    const exists =
      this.db
        .prepare<[string], { name: string }>('SELECT name FROM sqlite_schema WHERE name = ?')
        .get(table) !== undefined;
    if (!exists) {
      const columns = fields.map((field) => `, ${quote(keyColumn(field))}`).join('');
      this.db.exec(`CREATE TABLE ${quote(table)} (id TEXT PRIMARY KEY, doc TEXT NOT NULL${columns})`);
    }
    const stored = this.keyLayout(table) === 'stored';
    const existing = new Set(
      this.db
        .prepare<[string], { name: string }>('SELECT name FROM pragma_table_xinfo(?)')
        .all(table)
        .map((column) => column.name.toLowerCase()),
    );
    for (const field of fields) {
      const column = keyColumn(field);
      if (!existing.has(column.toLowerCase())) {
        if (stored) {
          this.db.exec(`ALTER TABLE ${quote(table)} ADD COLUMN ${quote(column)}`);
          this.db.exec(`UPDATE ${quote(table)} SET ${quote(column)} = json_extract(doc, '$.${field}')`);
        } else {
          // VIRTUAL: added without rewriting the table; the index below stores the values.
          this.db.exec(
            `ALTER TABLE ${quote(table)} ADD COLUMN ${quote(column)} ` +
              `GENERATED ALWAYS AS (json_extract(doc, '$.${field}')) VIRTUAL`,
          );
        }
      }
      if (withIndexes) {
        // With a usual sort field, each other field's index carries it: `status = ? ORDER BY openedAt`
        // then walks (status, openedAt, id) in order and stops at the page's end.
        const sorted = sortedBy !== undefined && sortedBy !== field;
        const name = sorted ? `${indexName(table, field)}__by_${sortedBy}` : indexName(table, field);
        const columns = sorted
          ? `${quote(column)}, ${quote(keyColumn(sortedBy))}, id`
          : `${quote(column)}, id`;
        this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(name)} ON ${quote(table)} (${columns})`);
      }
    }
  }

  /**
   * How a table holds its key columns: `stored` (written by commit, so an update that leaves the indexed
   * values alone touches no index) or `generated` (tables made before that layout: every update of the
   * document rewrites every index entry). Cached; tables are never altered from one to the other.
   */
  keyLayout(table: string): 'stored' | 'generated' {
    let layout = this.layouts.get(table);
    if (layout === undefined) {
      const generated = this.db
        .prepare<[string], { hidden: number }>(
          "SELECT hidden FROM pragma_table_xinfo(?) WHERE substr(name, 1, 2) = 'k_' AND hidden IN (2, 3)",
        )
        .get(table);
      layout = generated ? 'generated' : 'stored';
      this.layouts.set(table, layout);
    }
    return layout;
  }

  dropTable(table: string): void {
    this.forgetTable(table);
    this.layouts.delete(table);
    this.db.exec(`DROP TABLE IF EXISTS ${quote(table)}`);
  }
}

/** Reads and commits over one generation's tables and checkpoint: the live one, or a staged one. */
abstract class SqliteReadModels {
  private readonly scanPageSize: number;
  /** The test failpoint; set by the live store only. */
  protected beforeCommit: SqliteReadModelStoreOptions['beforeCommit'];
  protected guard: SqliteReadModelStoreOptions['guard'];
  /** Tables bulk-loaded without their secondary indexes (a staged generation): writes need no diffing. */
  protected readonly bulkLoad: boolean = false;

  protected constructor(
    protected readonly connection: Connection,
    options: SqliteReadModelStoreOptions,
  ) {
    this.scanPageSize = options.scanPageSize ?? DEFAULT_SCAN_PAGE_SIZE;
    if (!Number.isInteger(this.scanPageSize) || this.scanPageSize < 1) {
      throw new RangeError(`scanPageSize is a positive integer, not ${this.scanPageSize}`);
    }
  }

  /** Inside a transaction: where `collection` is stored; InvalidReadQueryError when unknown. */
  protected abstract resolve(collection: string): TableRef;
  protected abstract readCheckpoint(projection: string): bigint;
  protected abstract writeCheckpoint(projection: string, position: bigint): void;
  protected abstract writeTransaction<T>(work: () => T): T;

  async checkpoint(projection: string): Promise<bigint> {
    return this.connection.read(() => this.readCheckpoint(projection));
  }

  async commit(
    projection: string,
    from: bigint,
    to: bigint,
    changes: readonly DocumentChange[],
  ): Promise<void> {
    const json = jsonOf(changes);
    this.writeTransaction(() => this.commitNow({ projection, from, to, changes }, json));
  }

  /** The live store's: one write transaction, each commit in a savepoint of its own. */
  async commitTogether(commits: readonly ProjectionCommit[]): Promise<(Error | null)[]> {
    const prepared = commits.map((commit) => {
      try {
        return { commit, json: jsonOf(commit.changes), error: null };
      } catch (error) {
        return { commit, json: [], error: error as Error };
      }
    });
    return this.writeTransaction(() =>
      prepared.map(({ commit, json, error }) => {
        if (error) return error;
        try {
          this.connection.savepoint(() => this.commitNow(commit, json));
          return null;
        } catch (failure) {
          return failure as Error;
        }
      }),
    );
  }

  /** Inside a transaction: the checkpoint check, the changes, the new checkpoint. */
  private commitNow(
    { projection, from, to, changes }: ProjectionCommit,
    json: readonly (string | null)[],
  ): void {
    const actual = this.readCheckpoint(projection);
    if (actual !== from) throw new CheckpointMismatchError(projection, from, actual);
    this.guard?.({ projection, from, to });
    const writers = new Map<string, DocumentWriter>();
    for (let index = 0; index < changes.length; index++) {
      const change = changes[index];
      let writer = writers.get(change.collection);
      if (!writer) {
        writer = this.writerFor(this.resolve(change.collection));
        writers.set(change.collection, writer);
      }
      if (change.doc === null) {
        writer.remove(change.id);
      } else {
        checkDocument(writer.table, change.id, change.doc);
        writer.put(change.id, change.doc, json[index]!);
      }
    }
    this.writeCheckpoint(projection, to);
    this.beforeCommit?.(projection, to);
  }

  /** Inside the commit transaction: writes documents of one table with the statements its layout needs. */
  private writerFor(table: TableRef): DocumentWriter {
    const name = quote(table.table);
    const remove = this.connection.statement(`DELETE FROM ${name} WHERE id = ?`);
    if (this.connection.keyLayout(table.table) === 'generated') {
      // A replayed event yields the same document: skip the write and its index updates.
      const upsert = this.connection.statement(
        `INSERT INTO ${name} (id, doc) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc WHERE doc <> excluded.doc`,
      );
      return { table, put: (id, _doc, json) => upsert.run(id, json), remove: (id) => remove.run(id) };
    }
    const columns = table.indexes.map((field) => quote(keyColumn(field)));
    const keysOf = (doc: ReadDocument) =>
      table.indexes.map((field) => toSql((doc[field] ?? null) as IndexedValue));
    if (this.bulkLoad) {
      // A staged table has no secondary index before promote(): one upsert, no read of the stored row.
      const upsert = this.connection.statement(
        `INSERT INTO ${name} (${['id', 'doc', ...columns].join(', ')}) ` +
          `VALUES (${['?', '?', ...columns.map(() => '?')].join(', ')}) ON CONFLICT (id) DO UPDATE SET ` +
          ['doc', ...columns].map((column) => `${column} = excluded.${column}`).join(', '),
      );
      return {
        table,
        remove: (id) => remove.run(id),
        put: (id, doc, json) => upsert.run(id, json, ...keysOf(doc)),
      };
    }
    const current = this.connection
      .statement<unknown[]>(`SELECT ${['id', ...columns].join(', ')} FROM ${name} WHERE id = ?`)
      .raw(true);
    const insert = this.connection.statement(
      `INSERT INTO ${name} (${['id', 'doc', ...columns].join(', ')}) ` +
        `VALUES (${['?', '?', ...columns.map(() => '?')].join(', ')})`,
    );
    // Unchanged key columns are left out of the SET, so SQLite leaves their indexes alone: most updates
    // (a note, a contact) then rewrite the row only, not every index entry.
    const updateDoc = this.connection.statement(`UPDATE ${name} SET doc = ? WHERE id = ? AND doc <> ?`);
    return {
      table,
      remove: (id) => remove.run(id),
      put: (id, doc, json) => {
        const keys = keysOf(doc);
        const row = current.get(id) as SqlValue[] | undefined;
        if (row === undefined) {
          insert.run(id, json, ...keys);
          return;
        }
        const changed: number[] = [];
        for (let index = 0; index < keys.length; index++) {
          if (!sameKey(row[index + 1], keys[index])) changed.push(index);
        }
        if (changed.length === 0) {
          updateDoc.run(json, id, json);
          return;
        }
        this.connection
          .statement(
            `UPDATE ${name} SET doc = ?, ${changed.map((index) => `${columns[index]} = ?`).join(', ')} WHERE id = ?`,
          )
          .run(json, ...changed.map((index) => keys[index]), id);
      },
    };
  }

  async get(collection: string, id: string): Promise<ReadDocument | null> {
    const row = this.connection.read(() => {
      const { table } = this.resolve(collection);
      return this.connection
        .statement<{ doc: string }>(`SELECT doc FROM ${quote(table)} WHERE id = ?`)
        .get(id);
    });
    return row ? (JSON.parse(row.doc) as ReadDocument) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    const rows = this.connection.read(() => {
      const { table } = this.resolve(collection);
      return this.connection
        .statement<{ id: string; doc: string }>(
          `SELECT id, doc FROM ${quote(table)} WHERE id IN (SELECT value FROM json_each(?))`,
        )
        .all(JSON.stringify(ids));
    });
    return new Map(rows.map((row) => [row.id, JSON.parse(row.doc) as ReadDocument]));
  }

  async list(collection: string, query: ListQuery): Promise<Page> {
    const limit = validateLimit(query.limit);
    const { rows, compiled } = this.connection.read(() => {
      const table = this.resolve(collection);
      const compiled = compileQuery(table, query);
      const after = query.cursor == null ? null : decodeCursor(query.cursor, compiled, isSqlValue);
      // One row more than asked: whether a next page exists, without an empty last page.
      return { rows: this.fetch(table, compiled, after, limit + 1), compiled };
    });
    const items = rows.slice(0, limit).map((row) => JSON.parse(row.doc) as ReadDocument);
    return {
      items,
      nextCursor:
        rows.length > limit
          ? encodeCursor(compiled, { value: rows[limit - 1].sort_key, id: rows[limit - 1].id })
          : null,
    };
  }

  /** Page by page, each in its own short read transaction: nothing stays open while the caller awaits. */
  async *scan(collection: string, query: Omit<ListQuery, 'limit' | 'cursor'>): AsyncGenerator<ReadDocument> {
    let after: SortKey | null = null;
    for (;;) {
      const rows = this.connection.read(() => {
        const table = this.resolve(collection);
        return this.fetch(table, compileQuery(table, query), after, this.scanPageSize);
      });
      for (const row of rows) yield JSON.parse(row.doc) as ReadDocument;
      if (rows.length < this.scanPageSize) return;
      const last = rows[rows.length - 1];
      after = { value: last.sort_key, id: last.id };
    }
  }

  /** `EXPLAIN QUERY PLAN` of the statements list() runs for this query: to check an index serves it. */
  async queryPlan(collection: string, query: ListQuery): Promise<string[]> {
    return this.connection.read(() => {
      const table = this.resolve(collection);
      const compiled = compileQuery(table, query);
      const after = query.cursor == null ? null : decodeCursor(query.cursor, compiled, isSqlValue);
      return keysetSegments(compiled, after).flatMap((segment) => {
        const { sql, params } = this.segmentQuery(table, compiled, segment, validateLimit(query.limit) + 1);
        return this.connection.db
          .prepare<SqlValue[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...params)
          .map((row) => row.detail);
      });
    });
  }

  private fetch(table: TableRef, query: CompiledQuery, after: SortKey | null, count: number): DocumentRow[] {
    const rows: DocumentRow[] = [];
    for (const segment of keysetSegments(query, after)) {
      const { sql, params } = this.segmentQuery(table, query, segment, count - rows.length);
      rows.push(...this.connection.statement<DocumentRow>(sql).all(...params));
      if (rows.length >= count) break;
    }
    return rows;
  }

  private segmentQuery(
    table: TableRef,
    query: CompiledQuery,
    segment: { sql: string | null; params: SqlValue[] },
    count: number,
  ): { sql: string; params: SqlValue[] } {
    const conditions = segment.sql === null ? query.conditions : [...query.conditions, segment.sql];
    const order = query.direction === 'asc' ? 'ASC' : 'DESC';
    const orderBy = query.column === 'id' ? `id ${order}` : `${query.column} ${order}, id ${order}`;
    const sql =
      `SELECT id, doc, ${query.column} AS sort_key FROM ${quote(table.table)}` +
      (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY ${orderBy} LIMIT ?`;
    return { sql, params: [...query.params, ...segment.params, count] };
  }
}

/**
 * The ReadModelStore port in the shared SQLite file (docs/read-store.md): one table per collection and
 * generation, a registry naming each collection's live generation, a checkpoint per projection written in
 * the transaction of the changes it covers, and staged generations for rebuilds.
 */
export class SqliteReadModelStore extends SqliteReadModels implements ReadModelStore {
  private readonly closeDatabase: boolean;

  constructor(
    private readonly db: Database,
    private readonly options: SqliteReadModelStoreOptions = {},
  ) {
    super(new Connection(db, options.writeLock), options);
    this.closeDatabase = options.closeDatabase ?? false;
    this.beforeCommit = options.beforeCommit;
    this.guard = options.guard;
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_collections (
        name TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        indexes TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_checkpoints (
        projection TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        generation INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_staged (
        projection TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        position INTEGER NOT NULL,
        collections TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
  }

  async ensureCollections(specs: readonly CollectionSpec[]): Promise<void> {
    const checked = validateSpecs(specs);
    this.connection.write(() => {
      for (const spec of checked) {
        const row = this.connection
          .statement<RegistryRow>('SELECT generation, indexes FROM rm_collections WHERE name = ?')
          .get(spec.name);
        const generation = row?.generation ?? 0;
        // Indexes are only ever added here; a rebuild (stage) creates exactly its spec's.
        const indexes = [
          ...new Set([...(row ? (JSON.parse(row.indexes) as string[]) : []), ...spec.indexes]),
        ];
        assertIndexable(spec.name, indexes);
        this.connection.createTable(tableName(spec.name, generation), indexes, true, spec.sortedBy);
        this.connection
          .statement(
            `INSERT INTO rm_collections (name, generation, indexes) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET indexes = excluded.indexes`,
          )
          .run(spec.name, generation, JSON.stringify(indexes));
      }
    });
  }

  async stage(projection: string, specs: readonly CollectionSpec[]): Promise<StagedReadModels> {
    const checked = validateSpecs(specs);
    const generation = this.connection.write(() => {
      const generation = this.nextGeneration();
      const previous = this.connection
        .statement<StagedRow>('SELECT generation, collections FROM rm_staged WHERE projection = ?')
        .get(projection);
      // An earlier rebuild that crashed or was abandoned: starting again replaces it.
      if (previous) dropStaged(this.connection, previous);
      for (const spec of checked) {
        this.connection.createTable(tableName(spec.name, generation), spec.indexes, false);
      }
      this.connection
        .statement(
          `INSERT INTO rm_staged (projection, generation, position, collections) VALUES (?, ?, -1, ?)
           ON CONFLICT (projection) DO UPDATE SET generation = excluded.generation, position = -1,
             collections = excluded.collections`,
        )
        .run(projection, generation, JSON.stringify(checked));
      return generation;
    });
    return new SqliteStagedReadModels(this.connection, projection, generation, checked, this.options);
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    this.connection.closed = true;
    if (this.closeDatabase) this.db.close();
  }

  protected resolve(collection: string): TableRef {
    const row =
      typeof collection === 'string' && COLLECTION_NAME.test(collection)
        ? this.connection
            .statement<RegistryRow>('SELECT generation, indexes FROM rm_collections WHERE name = ?')
            .get(collection)
        : undefined;
    if (!row) throw invalid(`Unknown collection ${JSON.stringify(collection)}`);
    return {
      collection,
      table: tableName(collection, row.generation),
      indexes: JSON.parse(row.indexes) as string[],
    };
  }

  protected readCheckpoint(projection: string): bigint {
    const row = this.connection
      .statement<{ position: bigint }>('SELECT position FROM rm_checkpoints WHERE projection = ?')
      .safeIntegers(true)
      .get(projection);
    return row?.position ?? -1n;
  }

  protected writeCheckpoint(projection: string, position: bigint): void {
    this.connection
      .statement(
        `INSERT INTO rm_checkpoints (projection, position, generation) VALUES (?, ?, 0)
         ON CONFLICT (projection) DO UPDATE SET position = excluded.position`,
      )
      .run(projection, position);
  }

  protected writeTransaction<T>(work: () => T): T {
    return this.connection.write(work);
  }

  /** Never reused, even after a discard, so a stale staged object can never match a newer stage. */
  private nextGeneration(): number {
    const { highest } = this.connection
      .statement<{ highest: number }>(
        `SELECT max(
           coalesce((SELECT value FROM rm_meta WHERE key = 'last_generation'), 0),
           coalesce((SELECT max(generation) FROM rm_collections), 0),
           coalesce((SELECT max(generation) FROM rm_staged), 0),
           coalesce((SELECT max(generation) FROM rm_checkpoints), 0)
         ) AS highest`,
      )
      .get()!;
    const generation = highest + 1;
    this.connection
      .statement(
        `INSERT INTO rm_meta (key, value) VALUES ('last_generation', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      )
      .run(generation);
    return generation;
  }
}

function dropStaged(connection: Connection, staged: Pick<StagedRow, 'generation' | 'collections'>): void {
  for (const spec of JSON.parse(staged.collections) as CollectionSpec[]) {
    connection.dropTable(tableName(spec.name, staged.generation));
  }
}

class SqliteStagedReadModels extends SqliteReadModels implements StagedReadModels {
  protected override readonly bulkLoad = true;
  private readonly specs: Map<string, CollectionSpec>;

  constructor(
    connection: Connection,
    readonly projection: string,
    private readonly generation: number,
    specs: readonly CollectionSpec[],
    options: SqliteReadModelStoreOptions,
  ) {
    super(connection, options);
    this.specs = new Map(specs.map((spec) => [spec.name, spec]));
  }

  async promote(): Promise<void> {
    // The indexes of the bulk-loaded tables, one collection per transaction (a sort over the rows, much
    // cheaper than maintaining them per insert); the tables stay invisible until the swap below.
    for (const spec of this.specs.values()) {
      this.connection.write(() => {
        this.current();
        this.connection.createTable(tableName(spec.name, this.generation), spec.indexes, true, spec.sortedBy);
      });
    }
    this.connection.write(() => {
      const staged = this.current();
      for (const spec of this.specs.values()) {
        const live = this.connection
          .statement<RegistryRow>('SELECT generation, indexes FROM rm_collections WHERE name = ?')
          .get(spec.name);
        this.connection
          .statement(
            `INSERT INTO rm_collections (name, generation, indexes) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, indexes = excluded.indexes`,
          )
          .run(spec.name, this.generation, JSON.stringify(spec.indexes));
        // Same transaction: readers see either the old tables and checkpoint or the new ones, never a mix.
        if (live && live.generation !== this.generation) {
          this.connection.dropTable(tableName(spec.name, live.generation));
        }
      }
      this.connection
        .statement(
          `INSERT INTO rm_checkpoints (projection, position, generation) VALUES (?, ?, ?)
           ON CONFLICT (projection) DO UPDATE SET position = excluded.position, generation = excluded.generation`,
        )
        .run(this.projection, staged.position, this.generation);
      this.connection.statement('DELETE FROM rm_staged WHERE projection = ?').run(this.projection);
    });
  }

  async discard(): Promise<void> {
    this.connection.write(() => {
      const staged = this.stagedRow();
      if (staged?.generation !== this.generation) return;
      dropStaged(this.connection, staged);
      this.connection.statement('DELETE FROM rm_staged WHERE projection = ?').run(this.projection);
    });
  }

  protected resolve(collection: string): TableRef {
    this.current();
    const spec = this.specs.get(collection);
    if (!spec) throw invalid(`Collection ${JSON.stringify(collection)} is not staged for ${this.projection}`);
    return { collection, table: tableName(collection, this.generation), indexes: spec.indexes };
  }

  protected readCheckpoint(projection: string): bigint {
    this.assertProjection(projection);
    return this.current().position;
  }

  protected writeCheckpoint(projection: string, position: bigint): void {
    this.assertProjection(projection);
    this.connection
      .statement('UPDATE rm_staged SET position = ? WHERE projection = ? AND generation = ?')
      .run(position, projection, this.generation);
  }

  /** Rebuild batches are large and a crashed rebuild starts again, so their commits skip the fsync. */
  protected writeTransaction<T>(work: () => T): T {
    return this.connection.relaxedWrite(work);
  }

  private stagedRow(): StagedRow | undefined {
    return this.connection
      .statement<StagedRow>('SELECT generation, collections FROM rm_staged WHERE projection = ?')
      .get(this.projection);
  }

  private current(): { position: bigint } {
    const row = this.connection
      .statement<{ generation: bigint; position: bigint }>(
        'SELECT generation, position FROM rm_staged WHERE projection = ?',
      )
      .safeIntegers(true)
      .get(this.projection);
    if (row?.generation !== BigInt(this.generation)) {
      throw new StagedGenerationGoneError(this.projection, this.generation);
    }
    return { position: row.position };
  }

  private assertProjection(projection: string): void {
    if (projection !== this.projection) {
      throw new Error(`This staged generation belongs to ${this.projection}, not ${projection}`);
    }
  }
}
