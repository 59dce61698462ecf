import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';

const repoRoot = join(__dirname, '..', '..');

describe('npm run projector (apps/ledger-projector, standalone)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'standalone-projector-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('projects what another process appended, every projection to the head, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'ledger.db');
    const writer = SqliteEventStore.open(file);
    await appendLedgerHistory(writer, 11, 1500);
    const head = await writer.headPosition();
    await writer.close();

    const child = spawn(process.execPath, ['scripts/projector.mjs'], {
      cwd: repoRoot,
      env: { ...process.env, LEDGER_DATA_DIR: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const db = openSqlite(file);
    const store = new SqliteReadModelStore(db);
    try {
      // Until every projection's checkpoint (committed with its documents) reaches the head.
      const deadline = Date.now() + 60_000;
      const positions = async () =>
        Promise.all(ALL_PROJECTIONS.map((projection) => store.checkpoint(projection.name).catch(() => -1n)));
      while ((await positions()).some((position) => position < head)) {
        if (Date.now() > deadline) throw new Error(`projector did not reach ${head}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await positions()).toEqual(ALL_PROJECTIONS.map(() => head));

      // One issue summary per issue stream the history opened.
      const { count } = db
        .prepare<[], { count: number }>("SELECT count(*) AS count FROM streams WHERE stream LIKE 'issue-%'")
        .get()!;
      let summaries = 0;
      for await (const _ of store.scan('issue_summaries', { orderBy: { field: 'id', direction: 'asc' } }))
        summaries++;
      expect(count).toBeGreaterThan(0);
      expect(summaries).toBe(count);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await store.close();
      db.close();
    }
    expect(output).toContain(`ledger-projector running ${ALL_PROJECTIONS.length} projections`);
    expect(output).toMatch(/SIGTERM: finishing the current batches/);
  }, 120_000);
});
