import type { FastifyInstance } from 'fastify';
import { findCardData, findCardDataInJson } from './card-data';
import { edgeProblem, PROBLEM_CONTENT_TYPE, type Problem, ProblemError } from './problem';

/** Commands are small; anything larger is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const CARD_DETAIL =
  'The request holds what looks like a card number or a card field; card data is never accepted';

function cardProblem(where: string): Problem {
  return edgeProblem('card-data-refused', CARD_DETAIL, { at: where });
}

/**
 * Hooks that must run before Nest sees a request: the card-data guard on the raw body, the query and the
 * Idempotency-Key (checked before validation, so nothing holding a card number is parsed into a DTO,
 * stored or logged). JSON is the only media type parsed; anything else is 415. Errors raised here reach
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
      const where = findCardDataInJson(text, parsed);
      if (where) return done(new ProblemError(cardProblem(where)), undefined);
      done(null, parsed);
    },
  );

  fastify.addHook('preValidation', async (request, reply) => {
    const inQuery = findCardData(request.query ?? {});
    const idempotencyKey = request.headers['idempotency-key'];
    const inHeader = typeof idempotencyKey === 'string' ? findCardData(idempotencyKey) : null;
    const where = inQuery ? `query${inQuery}` : inHeader ? 'header/Idempotency-Key' : null;
    if (where) {
      await reply
        .status(422)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(cardProblem(where)));
    }
  });
}
