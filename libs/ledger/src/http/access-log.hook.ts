import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessEntry, AccessLogRecorder } from '../audit/access-log/access-log';
import { STREAM_NAME_PATTERN } from './audit-events.controller';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import { containsCardNumber } from '../application/card-data';

/** Reads DESIGN.md puts in the access log besides every /audit route; failed authentications anywhere. */
export const ACCESS_LOGGED_ROUTES: readonly string[] = [
  '/issues/:issueId',
  '/issues/:issueId/timeline',
  '/customers/:customerId',
];

const PARAM_STREAM_PREFIXES: Record<string, string> = {
  issueId: 'issue-',
  customerId: 'customer-',
  chargeId: 'charge-',
};

/** Stands in for a path value that looks like a card number: a 401 or 404 may carry one, the log never does. */
export const REDACTED_ID = '[card number]';

export function isAccessLogged(route: string, status: number): boolean {
  return (
    status === 401 || status === 403 || route.startsWith('/audit/') || ACCESS_LOGGED_ROUTES.includes(route)
  );
}

/** What is recorded of a finished request, or null when it is not one the access log covers. */
export function accessEntryOf(request: FastifyRequest, reply: FastifyReply): AccessEntry | null {
  const route = request.routeOptions?.url;
  if (!route || !isAccessLogged(route, reply.statusCode)) return null;
  const ids: Record<string, string> = {};
  const streams = new Set<string>();
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') continue;
    const id = containsCardNumber(value) ? REDACTED_ID : value.slice(0, 200);
    ids[name] = id;
    if (id === REDACTED_ID) continue;
    if (name === 'stream' && STREAM_NAME_PATTERN.test(id)) streams.add(id);
    else if (PARAM_STREAM_PREFIXES[name]) streams.add(`${PARAM_STREAM_PREFIXES[name]}${id}`);
  }
  const queried = (request.query as Record<string, unknown> | undefined)?.stream;
  if (
    route.startsWith('/audit/') &&
    typeof queried === 'string' &&
    STREAM_NAME_PATTERN.test(queried) &&
    !containsCardNumber(queried)
  ) {
    streams.add(queried);
  }
  const apiKey = (request as AuthenticatedRequest).apiKey;
  return {
    at: new Date(Date.now() - reply.elapsedTime).toISOString(),
    actor: apiKey?.id ?? 'anonymous',
    roles: apiKey ? [...apiKey.roles] : [],
    method: request.method,
    route,
    ids,
    streams: [...streams],
    status: reply.statusCode,
    ip: request.ip,
  };
}

/** Records every covered request once its answer is sent; never delays or fails the request. */
export function installAccessLog(fastify: FastifyInstance, recorder: AccessLogRecorder): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const entry = accessEntryOf(request, reply);
    if (entry) recorder.record(entry);
    done();
  });
}
