// Run by test/architecture/library-load.spec.ts through scripts/run-ts.mjs: loads what a rebuild or
// projector thread loads, and the composition root, and prints the packages that came with them.
import { ALL_PROJECTIONS, createLedgerApp, ProjectorHost } from '@app/ledger';
import { SqliteEventStore } from '@app/event-store';
import { SqliteReadModelStore } from '@app/read-store';
import { openLedger } from '@app/runtime';

const loaded = new Set<string>();
for (const file of Object.keys(require.cache)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (match) loaded.add(match[1]);
}
process.stdout.write(
  JSON.stringify({
    packages: [...loaded].sort(),
    exports: [
      ALL_PROJECTIONS,
      createLedgerApp,
      ProjectorHost,
      SqliteEventStore,
      SqliteReadModelStore,
      openLedger,
    ].map((value) => typeof value),
  }) + '\n',
);
