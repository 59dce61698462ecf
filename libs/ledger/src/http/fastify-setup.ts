import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findBodyShapeErrors } from './body-shape';
import { containsCardNumber, findCardData, findCardDataInJson } from '../application/card-data';
import { edgeProblem, type FieldError, PROBLEM_CONTENT_TYPE, type Problem, ProblemError } from './problem';

/** Commands are small; anything larger is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const CARD_DETAIL =
  'The request holds what looks like a card number or a card field; card data is never accepted';

function shapeProblem(error: FieldError): ProblemError {
  return ProblemError.of('validation-failed', `${error.field}: ${error.message}`, { errors: [error] });
}

function cardProblem(where: string): Problem {
  return edgeProblem('card-data-refused', CARD_DETAIL, { at: where });
}

/** Headers whose values the ledger keeps (in event metadata): card-checked like the body. */
const STORED_HEADERS = [
  ['idempotency-key', 'Idempotency-Key'],
  ['x-agent-id', 'X-Agent-Id'],
  ['x-correlation-id', 'X-Correlation-Id'],
  ['x-causation-id', 'X-Causation-Id'],
] as const;

/**
 * Where card data sits in what a request carries besides its body: the query, the path parameters (ids
 * name streams and are echoed in answers), and the headers the ledger stores. Null when nowhere.
 */
function cardDataOutsideBody(request: FastifyRequest): string | null {
  const inQuery = findCardData(request.query ?? {});
  if (inQuery) return `query${inQuery}`;
  const inPath = findCardData(request.params ?? {});
  if (inPath) return `path${inPath}`;
  for (const [name, shown] of STORED_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined && findCardData(value)) return `header/${shown}`;
  }
  return null;
}

/** A problem document written before any route ran: Nest's ProblemFilter never sees these requests. */
function sendEdgeProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem));
}

/**
 * Fastify options for what its router and Node's HTTP parser refuse before any route runs, answered as
 * problem+json like everything else (Fastify's own answers are plain JSON): a path that is not a valid URL
 * or has a segment over the router's 100 characters (400, as a too-long id is everywhere else), and a request
 * that is not HTTP, whose headers are too large (431) or arrive too late (408), after which the connection
 * is closed. The answers never quote the request.
 */
export const EDGE_ERROR_OPTIONS = {
  frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
    const detail =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'A path segment is longer than 100 characters'
        : error.code === 'FST_ERR_BAD_URL'
          ? 'The path is not a valid URL (bad percent-encoding)'
          : undefined;
    // FST_ERR_ASYNC_CONSTRAINT: a constraint strategy of ours failed, not the request.
    void sendEdgeProblem(
      reply,
      detail === undefined
        ? edgeProblem('internal-error', 'The request could not be routed')
        : edgeProblem('validation-failed', detail),
    );
  },
  clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const problem =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? edgeProblem('request-timeout', 'The request did not arrive in time')
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? edgeProblem('headers-too-large', 'The request headers exceed 16 KiB')
          : edgeProblem('validation-failed', 'The request is not valid HTTP');
    const body = JSON.stringify(problem);
    // As Node's own handler: never write into a response already being sent on this connection.
    const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inProgress?.headersSent) {
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  },
};

/**
 * Hooks that must run before Nest sees a request: the card-data guard on the raw body, the query, the path
 * parameters and the stored headers (checked before validation, so nothing holding a card number is parsed
 * into a DTO, stored or logged), and the body's shape (findBodyShapeError: depth, lone surrogates, inherited
 * names). JSON is the only media type parsed; anything else is 415. Errors raised here reach
 * Nest's Fastify error handler and so the ProblemFilter, which answers problem+json.
 */
export function configureFastify(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_req, raw, done) => {
      const text = raw as string;
      if (text.trim() === '') return done(null, undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // The parser's message can quote the body, which may hold card data or personal data.
        return done(
          Object.assign(new SyntaxError('The body is not valid JSON'), { statusCode: 400 }),
          undefined,
        );
      }
      const shape = findBodyShapeErrors(parsed);
      if (shape.tooDeep) {
        // Too deep to walk: the raw text is still searched for a card number, which is refused first.
        const error = containsCardNumber(text)
          ? new ProblemError(cardProblem('/'))
          : shapeProblem(shape.tooDeep);
        return done(error, undefined);
      }
      const where = findCardDataInJson(text, parsed);
      if (where) return done(new ProblemError(cardProblem(where)), undefined);
      if (shape.content) return done(shapeProblem(shape.content), undefined);
      done(null, parsed);
    },
  );

  fastify.addHook('preValidation', async (request, reply) => {
    const where = cardDataOutsideBody(request);
    if (where) await sendEdgeProblem(reply, cardProblem(where));
  });
}
