import 'reflect-metadata';
import { loadConfig, projectorLeaseSettings, startFailure, startStandaloneProjector } from '@app/runtime';

// The projector on its own: the same ProjectorHost that ledger-api runs in its worker thread, for when the
// read side is scaled or restarted separately. Several may run on one ledger: they share the projections
// through leases, one writer per projection (docs/projections.md "Leases").
async function main(): Promise<void> {
  const config = loadConfig();
  const leases = projectorLeaseSettings();
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const lastState = new Map<string, string>();
  const projector = await startStandaloneProjector(config, {
    leases,
    onLease: ({ projection, held, token }) =>
      log(`lease ${projection} ${held ? 'taken' : 'given up'} (token ${token})`),
    onStatus: (status) => {
      if (lastState.get(status.name) === status.state) return;
      lastState.set(status.name, status.state);
      const failure = status.failure
        ? ` at position ${status.failure.position}: ${status.failure.message}`
        : '';
      log(`${status.name} ${status.state} (position ${status.position})${failure}`);
    },
  });
  log(
    `ledger-projector running ${projector.projections} projections on ${config.dataDir} as ${projector.holder}` +
      ` (leases of ${leases.ttlMs} ms, renewed every ${leases.renewMs} ms)`,
  );
  const shutdown = (signal: NodeJS.Signals) => {
    log(`${signal}: finishing the current batches`);
    projector.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `ledger-projector: closing failed: ${error instanceof Error ? error.stack : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger-projector failed: ${startFailure(error)}\n`);
  process.exit(1);
});
