// Run by test/architecture/library-load.spec.ts through scripts/run-ts.mjs: loads what a rebuild or
// projector thread loads, and prints the packages that came with it, one per line.
import { ALL_PROJECTIONS, createLedgerApp, ProjectorHost } from '@app/ledger';
import { SqliteEventStore } from '@app/event-store';
import { SqliteReadModelStore } from '@app/read-store';

const loaded = new Set<string>();
for (const file of Object.keys(require.cache)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (match) loaded.add(match[1]);
}
process.stdout.write(
  JSON.stringify({
    packages: [...loaded].sort(),
    exports: [ALL_PROJECTIONS, createLedgerApp, ProjectorHost, SqliteEventStore, SqliteReadModelStore].map(
      (value) => typeof value,
    ),
  }) + '\n',
);
