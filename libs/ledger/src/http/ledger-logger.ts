import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * The framework's start-up chatter: a line per module, controller and mapped route (about 75 at start),
 * and "successfully started" before the server even listens. Useful when debugging the wiring, noise
 * otherwise: it pushed the first admin key off the screen. Logged at `debug`.
 */
const FRAMEWORK_START_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** The levels printed unless asked otherwise: `debug` and `verbose` are not. */
export const DEFAULT_LOG_LEVELS: LogLevel[] = ['error', 'warn', 'log'];

/** Nest's console logger, with the framework's start-up lines demoted to `debug`. */
export class LedgerLogger extends ConsoleLogger {
  constructor(logLevels: LogLevel[] = DEFAULT_LOG_LEVELS) {
    super({ logLevels });
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && FRAMEWORK_START_CONTEXTS.has(context)) {
      super.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }

  /**
   * Nest logs a failed `listen` ("Error: listen EADDRINUSE: ...") and then rejects with it; the caller
   * reports the rejection, naming the port and what to do, so the bare line is debug.
   */
  override error(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (
      context === 'NestApplication' &&
      typeof message === 'string' &&
      message.startsWith('Error: listen ')
    ) {
      super.debug(message, ...optionalParams);
      return;
    }
    super.error(message, ...optionalParams);
  }
}
