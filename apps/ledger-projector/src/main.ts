import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, type ProjectionStatus } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';

// The projector on its own: the same ProjectorHost that ledger-api runs in its worker thread, for when the
// read side is scaled or restarted separately. Checkpoints live with the read models, so it and an API's
// projector thread on the same file never apply a batch twice (the losing commit re-reads and resumes).
async function main(): Promise<void> {
  const dataDir = resolve(process.env.LEDGER_DATA_DIR || './data');
  const db = openSqlite(join(dataDir, 'ledger.db'));
  const eventStore = new SqliteEventStore(db);
  const store = new SqliteReadModelStore(db);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const lastState = new Map<string, string>();
  const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS, {
    onStatus: (status: ProjectionStatus) => {
      if (lastState.get(status.name) === status.state) return;
      lastState.set(status.name, status.state);
      const failure = status.failure
        ? ` at position ${status.failure.position}: ${status.failure.message}`
        : '';
      log(`${status.name} ${status.state} (position ${status.position})${failure}`);
    },
  });
  await host.start();
  log(`ledger-projector running ${ALL_PROJECTIONS.length} projections on ${dataDir}`);
  const shutdown = (signal: NodeJS.Signals) => {
    log(`${signal}: finishing the current batches`);
    void host
      .stop()
      .then(() => eventStore.close())
      .then(() => store.close())
      .then(() => {
        db.close();
        process.exit(0);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger-projector failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
