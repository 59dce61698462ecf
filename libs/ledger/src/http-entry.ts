import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { CreateAppOptions } from './http/create-app';
import type { LedgerAdapters } from './http/ledger.module';

export type { CreateAppOptions };

/**
 * Builds the HTTP application (http/create-app.ts). The HTTP layer, and Nest, Fastify, Swagger and
 * class-validator with it, is loaded on the first call rather than with the library: code that needs only
 * the domain, the projections or the ports (the projector and rebuild threads, most CLI commands) starts
 * without them, about 750 modules and 60 MB of memory fewer.
 */
export async function createLedgerApp(
  adapters: LedgerAdapters,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  // A require, not import(): this library is CommonJS, and a dynamic import() would load ESM semantics.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('./http/create-app') as typeof import('./http/create-app');
  return http.createLedgerApp(adapters, options);
}
