import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createLedgerApp, ensureBootstrapAdminKey } from '@app/ledger';
import { loadConfig, openLedger, type LedgerConfig } from '@app/runtime';
import { adminKeyNotice } from './admin-key-notice';
import { describeStartFailure } from './start-failure';

/** Set once the port is known to be the one asked for, so a failed listen can name it. */
let listenAt: Pick<LedgerConfig, 'port' | 'host'> | undefined;

async function main(): Promise<void> {
  const logger = new Logger('ledger-api');
  const config = loadConfig();
  const ledger = await openLedger(config);
  let app: Awaited<ReturnType<typeof createLedgerApp>> | undefined;
  try {
    // The app closes first (in-flight requests finish), then everything the ledger opened.
    const started = await createLedgerApp(ledger.adapters, { onClose: () => ledger.close() });
    app = started;
    // Graceful shutdown: stop accepting connections, let in-flight commands finish, close the store, exit 0.
    const shutdown = (signal: NodeJS.Signals) => {
      logger.log(`${signal}: finishing in-flight requests, then closing the store`);
      started.close().then(
        () => {
          logger.log('Ledger stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error(`shutdown failed: ${error instanceof Error ? error.stack : String(error)}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    listenAt = { port: config.port, host: config.host };
    await started.listen({ port: config.port, host: config.host });
    const address = started.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.log(`Ledger listening on http://${config.host}:${port} (data: ${config.dataDir}; docs: /docs)`);
    // Made once the server listens (a start that fails never makes a key nobody saw), and printed last,
    // below every log line of the start. Only its hash is stored, so it cannot be shown again.
    const bootstrap = await ensureBootstrapAdminKey(ledger.adapters.apiKeys);
    if (bootstrap) process.stdout.write(adminKeyNotice(bootstrap.key, process.stdout.isTTY === true));
  } catch (error) {
    // A start that fails after the ledger opened closes what it opened (threads, connections) first.
    await (app ? app.close() : ledger.close()).catch(() => undefined);
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger-api failed to start: ${describeStartFailure(error, listenAt)}\n`);
  process.exit(1);
});
