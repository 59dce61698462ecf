import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { openSqlite, WAL_SIZE_LIMIT_BYTES } from './open-sqlite';
import { WalCheckpointer, type CheckpointReport } from './wal-checkpointer';

const PAGE = 4096;
/** A WAL frame: a page and its 24-byte header. */
const FRAME = PAGE + 24;

// A writer that never pauses for long, like the event store under load: four small commits, a millisecond's
// rest, until told to stop. Its own thread, so that it commits while the test's checkpoints run.
const WRITER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const insert = db.prepare('INSERT INTO facts (body) VALUES (randomblob(1500))');
const stop = new Int32Array(workerData.stop);
let commits = 0;
while (Atomics.load(stop, 0) === 0) {
  for (let i = 0; i < 4; i++, commits++) insert.run();
  Atomics.wait(stop, 0, 0, 1);
}
db.close();
parentPort.postMessage(commits);
`;

describe('WalCheckpointer', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wal-checkpointer-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A database being written by another thread, and the connection that checkpoints it. */
  function underLoad(name: string) {
    const file = join(dir, name);
    const db = openSqlite(file);
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE facts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { file, stop, betterSqlite3: require.resolve('better-sqlite3') },
    });
    const commits = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return {
      db,
      walBytes: () => statSync(`${file}-wal`).size,
      async stop() {
        Atomics.store(new Int32Array(stop), 0, 1);
        const written = await commits;
        db.close();
        return written;
      },
    };
  }

  /** Runs `step` every 20 ms until it returns true, for at most 20 s. */
  async function every20ms(step: () => boolean): Promise<boolean> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (step()) return true;
    }
    return false;
  }

  it('keeps the WAL of a database written without pause bounded, where passive checkpoints let it grow', async () => {
    // What SQLite's automatic checkpoints do: PASSIVE ones, each overtaken by commits made meanwhile, so
    // the log never starts over. It grows past 2,000 frames (and would go on growing).
    const passiveOnly = underLoad('passive.db');
    let frames = 0;
    const started = Date.now();
    const grew = await every20ms(() => {
      const [row] = passiveOnly.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
      frames = row.log;
      return frames >= 2000;
    });
    const passiveMs = Date.now() - started;
    const passiveCommits = await passiveOnly.stop();
    expect(grew).toBe(true);
    expect(frames).toBeGreaterThanOrEqual(2000);

    // The same writer for as long (and for at least eight restarts), checkpointed by a WalCheckpointer that
    // restarts the log from 200 frames.
    const checkpointed = underLoad('checkpointed.db');
    const checkpointer = WalCheckpointer.start(checkpointed.db, { intervalMs: 60_000, restartFrames: 200 });
    const reports: CheckpointReport[] = [];
    const until = Date.now() + Math.max(passiveMs, 500);
    const restarts = () => reports.filter((report) => report.restarted);
    await every20ms(() => {
      const report = checkpointer.checkpoint();
      if (report) reports.push(report);
      return Date.now() >= until && restarts().length >= 8;
    });
    checkpointer.stop();
    const walBytes = checkpointed.walBytes();
    const commits = await checkpointed.stop();

    expect(commits).toBeGreaterThan(passiveCommits / 4);
    expect(restarts().length).toBeGreaterThanOrEqual(8);
    // After a restart the log counts again from its start, so the file holds about the longest stretch
    // between two restarts, where without them it held every frame written: here, under half of them.
    const afterRestart = reports.findIndex((report) => report.restarted) + 1;
    expect(reports[afterRestart].frames).toBeLessThan(restarts()[0].frames);
    const written = restarts().reduce((sum, report) => sum + report.frames, 0);
    expect(walBytes).toBeLessThan((written / 2) * FRAME);
  }, 60_000);

  it('copies every frame and restarts nothing below restartFrames', async () => {
    const db: Database = openSqlite(join(dir, 'quiet.db'));
    try {
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE facts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
      for (let i = 0; i < 10; i++) db.prepare('INSERT INTO facts (body) VALUES (randomblob(1500))').run();
      const checkpointer = WalCheckpointer.start(db, { restartFrames: 1000 });
      checkpointer.stop();
      const report = checkpointer.checkpoint()!;
      expect(report).toEqual({
        frames: report.checkpointed,
        checkpointed: expect.any(Number),
        restarted: false,
      });
      expect(report.frames).toBeGreaterThanOrEqual(10);
    } finally {
      db.close();
    }
  });

  it('leaves a connection inside a transaction alone', () => {
    const db = openSqlite(join(dir, 'busy.db'));
    try {
      db.exec('CREATE TABLE facts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
      const checkpointer = WalCheckpointer.start(db, { restartFrames: 1 });
      checkpointer.stop();
      db.exec("BEGIN; INSERT INTO facts (body) VALUES (x'00')");
      expect(checkpointer.checkpoint()).toBeUndefined();
      db.exec('COMMIT');
      expect(checkpointer.checkpoint()).toEqual({
        frames: expect.any(Number),
        checkpointed: expect.any(Number),
        restarted: true,
      });
    } finally {
      db.close();
    }
  });

  describe('with another connection in the way', () => {
    let db: Database;
    let other: Database;
    beforeEach(() => {
      db = openSqlite(join(dir, 'shared.db'));
      other = openSqlite(join(dir, 'shared.db'));
      for (const connection of [db, other]) connection.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE facts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    });
    afterEach(() => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      db.close();
    });
    const write = (rows: number) => {
      for (let i = 0; i < rows; i++) db.prepare('INSERT INTO facts (body) VALUES (randomblob(3000))').run();
    };

    it('attempts no RESTART, which would hold the write lock waiting, while a reader pins old frames', () => {
      write(50);
      other.exec('BEGIN');
      other.prepare('SELECT count(*) FROM facts').get();
      write(50);
      const checkpointer = WalCheckpointer.start(db, { restartFrames: 10, restartWaitMs: 3000 });
      checkpointer.stop();
      const started = Date.now();
      const report = checkpointer.checkpoint()!;
      // A RESTART would have waited the whole 3 s for the reader.
      expect(Date.now() - started).toBeLessThan(1500);
      expect(report.restarted).toBe(false);
      expect(report.checkpointed).toBeLessThan(report.frames);
      other.exec('COMMIT');
      expect(checkpointer.checkpoint()!.restarted).toBe(true);
    });

    it('skips the next RESTARTs after one found the write lock taken', () => {
      write(50);
      const checkpointer = WalCheckpointer.start(db, { restartFrames: 10, restartWaitMs: 5 });
      checkpointer.stop();
      other.exec('BEGIN IMMEDIATE');
      expect(checkpointer.checkpoint()!.restarted).toBe(false);
      other.exec('COMMIT');
      // One turn skipped, then tried again; the connection's own busy_timeout is back.
      expect(checkpointer.checkpoint()!.restarted).toBe(false);
      expect(checkpointer.checkpoint()!.restarted).toBe(true);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    });
  });

  it('leaves a WAL file that grew past 64 MiB cut back to 64 MiB once the log starts over', () => {
    const file = join(dir, 'grown.db');
    const db = openSqlite(file);
    try {
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE facts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
      // 80 MiB of frames at once: as a long reader, keeping the log from starting over, would let it grow.
      const insert = db.prepare('INSERT INTO facts (body) VALUES (randomblob(4000))');
      db.transaction(() => {
        for (let i = 0; i < 20_000; i++) insert.run();
      })();
      const grown = statSync(`${file}-wal`).size;
      expect(grown).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
      const checkpointer = WalCheckpointer.start(db, { restartFrames: 1 });
      checkpointer.stop();
      expect(checkpointer.checkpoint()!.restarted).toBe(true);
      insert.run();
      expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    } finally {
      db.close();
    }
  });

  it('refuses settings that are not positive integers', () => {
    const db = openSqlite(join(dir, 'settings.db'));
    try {
      for (const options of [{ intervalMs: 0 }, { restartFrames: 1.5 }, { restartWaitMs: -1 }]) {
        expect(() => WalCheckpointer.start(db, options)).toThrow(RangeError);
      }
    } finally {
      db.close();
    }
  });
});
