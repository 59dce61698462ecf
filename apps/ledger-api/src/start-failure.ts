import { InvalidSigningKeyError } from '@app/ledger';
import { startFailure, type LedgerConfig } from '@app/runtime';

/** What a failed `listen` carries: Node's system error code and the syscall. */
function listenErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return 'syscall' in error && error.syscall === 'listen' ? error.code : undefined;
}

/**
 * What the API prints when it cannot start: for what the person starting it can fix (a variable, the port),
 * one line that names it and says what to do, without a stack; anything else with its stack (a bug).
 * Configuration errors (ConfigurationError and its subclasses, e.g. an unreachable engine) are the
 * runtime's `startFailure`.
 */
export function describeStartFailure(
  error: unknown,
  listen: Pick<LedgerConfig, 'port' | 'host'> | undefined,
): string {
  if (error instanceof InvalidSigningKeyError) return error.message;
  const code = listenErrorCode(error);
  if (listen && code === 'EADDRINUSE') {
    return (
      `port ${listen.port} is in use on ${listen.host}: another process listens there (perhaps another ` +
      'ledger-api); stop it, or set PORT=<another port> (PORT=0 picks a free one)'
    );
  }
  if (listen && code === 'EACCES') {
    return `port ${listen.port} needs privileges this process does not have: set PORT to 1024 or above`;
  }
  if (listen && code === 'EADDRNOTAVAIL') {
    return (
      `HOST=${listen.host} is not an address of this machine: set HOST=127.0.0.1 (this machine only) or ` +
      'HOST=0.0.0.0 (every interface)'
    );
  }
  return startFailure(error);
}
