import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { createLedgerApp, generateApiKey } from '@app/ledger';
import { openEmbeddedLedger } from '@app/runtime';

// The real ledger, durable (synchronous=FULL, group commit) on a fresh SQLite file.
async function main() {
  // A directory of its own unless LEDGER_DATA_DIR names one; removed on exit (a run leaves ~200 MB).
  const ownDir = !process.env.LEDGER_DATA_DIR;
  const dataDir = process.env.LEDGER_DATA_DIR || mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const ledger = await openEmbeddedLedger(dataDir);
  const { key } = await generateApiKey(ledger.adapters.apiKeys, { name: 'bench', roles: ['admin'] });
  const app = await createLedgerApp(ledger.adapters, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  process.once('SIGTERM', () => {
    const { commits, appends } = (ledger.adapters.eventStore as SqliteEventStore).stats;
    process.stderr.write(`ledger: ${appends} appends in ${commits} commits\n`);
    void app.close().then(() => {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0} ${key}\n`);
}
void main();
