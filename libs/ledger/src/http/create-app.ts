import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { BODY_LIMIT_BYTES, configureFastify, EDGE_ERROR_OPTIONS } from './fastify-setup';
import { AccessLogRecorder } from '../audit/access-log/access-log';
import { installAccessLog } from './access-log.hook';
import { DEFAULT_LOG_LEVELS, LedgerLogger } from './ledger-logger';
import { type LedgerAdapters, LedgerModule } from './ledger.module';

export interface CreateAppOptions {
  logger?: boolean;
  /** The levels printed (default error, warn, log); `debug` adds the framework's route mapping. */
  logLevels?: LogLevel[];
  /** Runs after the server stopped taking requests and in-flight ones finished (close the stores here). */
  onClose?: () => Promise<void>;
}

/** Builds the HTTP application around the given adapters: the same code path for `npm start` and tests. */
export async function createLedgerApp(
  adapters: LedgerAdapters,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ...EDGE_ERROR_OPTIONS,
  });
  configureFastify(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(LedgerModule.forRoot(adapters), adapter, {
    logger: options.logger === false ? false : new LedgerLogger(options.logLevels ?? DEFAULT_LOG_LEVELS),
    abortOnError: false,
    // Our own JSON parser (configureFastify) applies the card-data guard before anything is parsed into a DTO.
    bodyParser: false,
  });
  // Requests are finished by then, so the access log's last batch is complete; it is appended before the
  // stores close.
  const accessLog = app.get(AccessLogRecorder);
  installAccessLog(adapter.getInstance(), accessLog);
  const { onClose } = options;
  adapter.getInstance().addHook('onClose', async () => {
    await accessLog.close();
    await onClose?.();
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Payment-Issue Ledger')
      .setDescription('Event-sourced system of record for payment problems. See API.md for the contract.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
