import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createLedgerApp, ensureBootstrapAdminKey } from '@app/ledger';
import { loadConfig, openLedger, startFailure } from '@app/runtime';

async function main(): Promise<void> {
  const logger = new Logger('ledger-api');
  const config = loadConfig();
  const ledger = await openLedger(config);
  let app: Awaited<ReturnType<typeof createLedgerApp>> | undefined;
  try {
    const bootstrap = await ensureBootstrapAdminKey(ledger.adapters.apiKeys);
    if (bootstrap) {
      // Printed once: only its hash is stored, so it cannot be shown again.
      process.stdout.write(
        `\nCreated the first admin API key (shown once, store it now):\n\n  ${bootstrap.key}\n\n` +
          `Create more with: npm run ledger -- keys create --name <name> --role <role>\n\n`,
      );
    }
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
    await started.listen({ port: config.port, host: config.host });
    const address = started.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.log(`Ledger listening on http://${config.host}:${port} (data: ${config.dataDir}; docs: /docs)`);
  } catch (error) {
    // A start that fails after the ledger opened closes what it opened (threads, connections) first.
    await (app ? app.close() : ledger.close()).catch(() => undefined);
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger-api failed to start: ${startFailure(error)}\n`);
  process.exit(1);
});
