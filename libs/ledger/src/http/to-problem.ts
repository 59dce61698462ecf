import { HttpException } from '@nestjs/common';
import { DomainError } from '../domain/shared/domain-error';
import { DOMAIN_ERROR_TYPES } from '../domain/shared/error-types';
import {
  ConcurrentModificationError,
  PreconditionFailedError,
} from '../application/commands/stream-command-runner';
import {
  AppendTooLargeError,
  StorageBusyError,
  StorageUnavailableError,
} from '../application/ports/event-store.port';
import { IdempotencyKeyReusedError } from '../application/ports/idempotency-store.port';
import { ProjectionsElsewhereError } from '../application/ports/projections.port';
import { RestartingError } from '../application/ports/restarting-error';
import { InvalidReadQueryError } from '../application/ports/read-model-store.port';
import { edgeProblem, type Problem, ProblemError, problemTypeUri } from './problem';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
}

function isFastifyError(error: unknown): error is FastifyLikeError {
  return (
    error instanceof Error && typeof (error as FastifyLikeError).code === 'string' && 'statusCode' in error
  );
}

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);

/**
 * A domain error's details become extension members; one named like a problem member is renamed (the
 * aggregate's `status` becomes `currentStatus`), so it can never replace the HTTP status.
 */
function domainDetails(details: Record<string, unknown>): Record<string, unknown> {
  const members: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    members[PROBLEM_MEMBERS.has(key) ? `current${key[0].toUpperCase()}${key.slice(1)}` : key] = value;
  }
  return members;
}

export const IDEMPOTENCY_KEY_REUSED_DETAIL =
  'This Idempotency-Key was first used with a different body or on another resource';

/** One mapping from anything thrown to the problem document answered; used by the filter and idempotency. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof DomainError) {
    const registered = (DOMAIN_ERROR_TYPES as Record<string, { status: number; title: string }>)[error.type];
    const status = registered?.status ?? (error.kind === 'not-found' ? 404 : 409);
    return {
      ...domainDetails(error.details),
      type: problemTypeUri(error.type),
      title: registered?.title ?? error.message,
      status,
      detail: error.message,
    };
  }
  // A query the read store refuses (a forged or stale cursor): the client's input, so a 400.
  if (error instanceof InvalidReadQueryError) {
    return edgeProblem('validation-failed', error.message, {
      errors: [{ field: /cursor/i.test(error.message) ? 'cursor' : 'query', message: error.message }],
    });
  }
  if (error instanceof PreconditionFailedError) {
    return edgeProblem('precondition-failed', error.message, {
      stream: error.stream,
      currentRevision: error.currentRevision,
    });
  }
  // Not the client's doing, and nothing was written: the same request may be sent again (Retry-After).
  if (error instanceof StorageBusyError) {
    return edgeProblem(
      'service-unavailable',
      'The ledger’s storage is locked by another writer (a long rebuild, say); nothing was written, retry shortly',
    );
  }
  if (error instanceof StorageUnavailableError) {
    return edgeProblem(
      'service-unavailable',
      'The ledger’s event storage did not answer; retry shortly, with the same Idempotency-Key for a command',
    );
  }
  // The command's events exceed what the event store takes in one append: resending cannot help.
  if (error instanceof AppendTooLargeError) {
    return edgeProblem(
      'payload-too-large',
      `The request's events are larger than the event store takes in one append (${error.maxBytes} bytes); nothing was written`,
    );
  }
  if (error instanceof RestartingError) return edgeProblem('service-unavailable', error.message);
  if (error instanceof ProjectionsElsewhereError) return edgeProblem('projections-elsewhere', error.message);
  if (error instanceof IdempotencyKeyReusedError) {
    return edgeProblem('idempotency-key-reused', IDEMPOTENCY_KEY_REUSED_DETAIL);
  }
  if (error instanceof ConcurrentModificationError) {
    return edgeProblem('concurrent-modification', error.message, { stream: error.stream });
  }
  if (isFastifyError(error)) {
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return edgeProblem('malformed-json', error.message);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return edgeProblem('payload-too-large', error.message);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return edgeProblem('unsupported-media-type', error.message);
    }
    if (error instanceof SyntaxError) return edgeProblem('malformed-json', error.message);
    const status = error.statusCode ?? 500;
    if (status === 413) return edgeProblem('payload-too-large', error.message);
    if (status === 415) return edgeProblem('unsupported-media-type', error.message);
    if (status >= 400 && status < 500) return edgeProblem('validation-failed', error.message);
  }
  if (error instanceof SyntaxError) return edgeProblem('malformed-json', 'The body is not valid JSON');
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404) return edgeProblem('route-not-found', error.message);
    if (status === 405) return edgeProblem('method-not-allowed', error.message);
    if (status === 413) return edgeProblem('payload-too-large', error.message);
    if (status === 415) return edgeProblem('unsupported-media-type', error.message);
    if (status >= 400 && status < 500) return edgeProblem('validation-failed', error.message);
  }
  return edgeProblem('internal-error', 'The ledger could not complete the request; it has been logged');
}
