import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createLedgerApp, ensureBootstrapAdminKey } from '@app/ledger';
import { loadConfig } from './config';
import { openEmbeddedLedger } from './embedded';

async function main(): Promise<void> {
  const logger = new Logger('ledger-api');
  const config = loadConfig();
  const ledger = openEmbeddedLedger(config.dataDir);
  const bootstrap = await ensureBootstrapAdminKey(ledger.adapters.apiKeys);
  if (bootstrap) {
    // Printed once: only its hash is stored, so it cannot be shown again.
    process.stdout.write(
      `\nCreated the first admin API key (shown once, store it now):\n\n  ${bootstrap.key}\n\n` +
        `Create more with: npm run ledger -- keys create --name <name> --role <role>\n\n`,
    );
  }
  const app = await createLedgerApp(ledger.adapters);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onClose', async () => {
      await ledger.close();
    });
  await app.listen({ port: config.port, host: config.host });
  logger.log(
    `Ledger listening on http://${config.host}:${config.port} (data: ${config.dataDir}; docs: /docs)`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ledger-api failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
