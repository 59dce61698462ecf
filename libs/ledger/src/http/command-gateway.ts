import { Inject, Injectable } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { canonicalize } from '../audit/canonical-json';
import type { CommandMeta, CommandOutcome } from '../application/commands/command-meta';
import { CLOCK, type Clock } from '../application/ports/clock.port';
import {
  IDEMPOTENCY_STORE,
  IdempotencyScopeTakenError,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../application/ports/idempotency-store.port';
import { ID_GENERATOR, type IdGenerator } from '../application/ids';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import {
  answerOf,
  APPENDED_STATUS,
  contentTypeOf,
  problemAnswer,
  renderAnswer,
  type CommandAnswer,
} from './command-answer';
import { ProblemError } from './problem';
import { IDEMPOTENCY_KEY_REUSED_DETAIL, toProblem } from './to-problem';

/** How far in the future a caller's occurredAt may be, to absorb clock skew between services. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
/**
 * How long a request's claim on its Idempotency-Key outlives a holder that crashed: a command waits at most
 * 5 s for the storage and re-decides a few times, so a live holder is done long before.
 */
export const IDEMPOTENCY_CLAIM_TTL_MS = 30_000;

const IF_MATCH = /^(?:W\/)?(?:"(-1|0|[1-9]\d{0,14})"|(-1|0|[1-9]\d{0,14}))$/;

/** Domain answers are part of what the command did, so a retry must see them again; transient ones are not. */
function isStoredAnswer(status: number, type: string): boolean {
  return (status === 404 || status === 409 || status === 412) && !type.endsWith('/concurrent-modification');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * What a stored answer is compared with: the SHA-256 of the JCS bytes of the body (DESIGN.md), and on a
 * route with path ids, of `{body, params}`, since the scope names the route (`/charges/:chargeId/refunds`),
 * not the resource: the same key and body on another charge must not replay the first charge's answer.
 * `bodyHash` is what records written before the ids were included hold (answered as before).
 */
function requestHashesOf(request: AuthenticatedRequest): {
  requestHash: string;
  bodyHash: string;
  hashed: string;
} {
  const body = request.body ?? null;
  const bodyText = canonicalize(body);
  const bodyHash = sha256(bodyText);
  const params = (request.params ?? {}) as Record<string, string>;
  if (Object.keys(params).length === 0) return { requestHash: bodyHash, bodyHash, hashed: bodyText };
  const hashed = canonicalize({ body, params });
  return { requestHash: sha256(hashed), bodyHash, hashed };
}

export interface CommandBodyCommon {
  occurredAt?: string;
  correlationId?: string;
}

export interface ExecuteOptions {
  request: AuthenticatedRequest;
  reply: FastifyReply;
  body: CommandBodyCommon | undefined;
  /** The agent who acted, when the body names one (contacts, notes); else the X-Agent-Id header. */
  actingAgentId?: string;
  run(meta: CommandMeta): Promise<CommandOutcome>;
}

/**
 * The HTTP side of every command: business time, correlation, If-Match, and durable idempotency
 * (DESIGN.md's normative rules). The command itself runs through the CommandBus inside `run`.
 */
@Injectable()
export class CommandGateway {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  private fingerprintKeyLoaded: Promise<Uint8Array> | undefined;

  private fingerprintKey(): Promise<Uint8Array> {
    if (!this.fingerprintKeyLoaded) {
      const loading = this.idempotency.fingerprintKey();
      this.fingerprintKeyLoaded = loading;
      // A failed load is tried again by the next request.
      loading.catch(() => {
        if (this.fingerprintKeyLoaded === loading) this.fingerprintKeyLoaded = undefined;
      });
    }
    return this.fingerprintKeyLoaded;
  }

  /** The Idempotency-Key of a request, validated; undefined when absent. */
  idempotencyKeyOf(request: AuthenticatedRequest): string | undefined {
    const value = request.headers['idempotency-key'];
    if (value === undefined) return undefined;
    if (
      typeof value !== 'string' ||
      value.length === 0 ||
      value.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
      !/^[\x21-\x7e]+$/.test(value)
    ) {
      throw ProblemError.of('validation-failed', 'Idempotency-Key must be 1–128 visible ASCII characters', {
        errors: [{ field: 'Idempotency-Key', message: 'must be 1–128 visible ASCII characters' }],
      });
    }
    return value;
  }

  async execute({ request, reply, body, actingAgentId, run }: ExecuteOptions): Promise<string> {
    const apiKey = request.apiKey;
    if (!apiKey) throw ProblemError.of('unauthorized', 'Not authenticated');
    const meta = this.metaOf(request, body, actingAgentId);
    const key = this.idempotencyKeyOf(request);
    if (key === undefined) {
      const outcome = await run(meta);
      return this.send(reply, answerOf(outcome), outcome.revision);
    }

    const route = request.routeOptions.url ?? request.url;
    const scope = sha256(canonicalize([apiKey.id, request.method, route, key]));
    const { requestHash, bodyHash, hashed } = requestHashesOf(request);
    const recorded = await this.idempotency.get(scope);
    if (recorded) return this.replay(reply, recorded, requestHash, bodyHash);
    const holder = this.ids.next();
    const now = this.clock.now();
    const claimed = await this.idempotency.claim(
      { scope, holder, expiresAt: new Date(now.getTime() + IDEMPOTENCY_CLAIM_TTL_MS).toISOString() },
      now.toISOString(),
    );
    if (!claimed) {
      throw ProblemError.of(
        'idempotency-key-in-use',
        'A request with this Idempotency-Key is still being processed',
      );
    }
    try {
      // The holder before us may have answered and released the scope since the first read.
      const stored = await this.idempotency.get(scope);
      if (stored) return this.replay(reply, stored, requestHash, bodyHash);
      // What goes into the events: an HMAC, not the SHA-256 of the record, which would let anyone holding
      // the immutable stream confirm a guess at the request's personal text for ever (docs/hashing.md).
      const fingerprint = createHmac('sha256', await this.fingerprintKey())
        .update(hashed, 'utf8')
        .digest('hex');
      const keyed: CommandMeta = {
        ...meta,
        idempotency: { key, record: { scope, requestHash, status: APPENDED_STATUS }, fingerprint },
      };
      let outcome: CommandOutcome;
      try {
        outcome = await run(keyed);
      } catch (error) {
        // Another process answered the same key first: its append rolled ours back; answer what it stored.
        if (error instanceof IdempotencyScopeTakenError)
          return this.replayStored(reply, scope, requestHash, bodyHash);
        const problem = toProblem(error);
        if (!isStoredAnswer(problem.status, problem.type)) throw error;
        const answer = problemAnswer(problem);
        if (!(await this.idempotency.put(this.record(scope, requestHash, answer))))
          return this.replayStored(reply, scope, requestHash, bodyHash);
        return this.send(reply, answer);
      }
      const answer = answerOf(outcome);
      // An event store that records idempotency wrote this record with the events; otherwise it is kept here.
      if (!outcome.recorded && !(await this.idempotency.put(this.record(scope, requestHash, answer))))
        return this.replayStored(reply, scope, requestHash, bodyHash);
      // Answered from the stream, whose events this very command appended before: a replay, like one from the
      // record, which is rebuilt here.
      if (outcome.replayed) reply.header('idempotent-replay', 'true');
      return this.send(reply, answer, outcome.replayed ? undefined : outcome.revision);
    } finally {
      // A release that fails (the storage locked past the wait) must not replace the answer: the claim
      // then lapses at its expiry, and a duplicate meanwhile is told to retry.
      await this.idempotency.release(scope, holder).catch(() => undefined);
    }
  }

  private record(scope: string, requestHash: string, { status, answer }: CommandAnswer): IdempotencyRecord {
    return { scope, requestHash, status, answer, createdAt: this.clock.now().toISOString() };
  }

  private async replayStored(
    reply: FastifyReply,
    scope: string,
    requestHash: string,
    legacyHash: string,
  ): Promise<string> {
    const stored = await this.idempotency.get(scope);
    if (!stored) throw new Error(`idempotency record for scope ${scope} vanished`);
    return this.replay(reply, stored, requestHash, legacyHash);
  }

  /**
   * The first answer to this key, byte for byte; the same key with another body or other path ids is
   * refused. `legacyHash`: what records written before path ids were hashed hold for this body.
   */
  private replay(
    reply: FastifyReply,
    stored: IdempotencyRecord,
    requestHash: string,
    legacyHash: string = requestHash,
  ): string {
    if (stored.requestHash !== requestHash && stored.requestHash !== legacyHash) {
      throw ProblemError.of('idempotency-key-reused', IDEMPOTENCY_KEY_REUSED_DETAIL);
    }
    reply.header('idempotent-replay', 'true');
    return this.send(reply, stored);
  }

  /** Every command answer, first or replayed, is rendered here; a first answer carries its ETag. */
  private send(reply: FastifyReply, answer: CommandAnswer, revision?: number): string {
    reply.status(answer.status).header('content-type', contentTypeOf(answer));
    if (revision !== undefined) reply.header('etag', `"${revision}"`);
    return renderAnswer(answer.answer);
  }

  private metaOf(
    request: AuthenticatedRequest,
    body: CommandBodyCommon | undefined,
    actingAgentId?: string,
  ): CommandMeta {
    const apiKey = request.apiKey!;
    const now = this.clock.now();
    let occurredAt = now.toISOString();
    if (body?.occurredAt !== undefined) {
      const at = new Date(body.occurredAt);
      if (at.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
        throw ProblemError.of('validation-failed', 'occurredAt is in the future', {
          errors: [
            { field: 'occurredAt', message: 'must not be in the future (5 minutes of clock skew allowed)' },
          ],
        });
      }
      occurredAt = at.toISOString();
    }
    const agentId = actingAgentId ?? this.headerId(request, 'x-agent-id');
    return {
      actor: {
        kind: apiKey.roles.includes('agent') && !apiKey.roles.includes('service') ? 'agent' : 'service',
        id: apiKey.id,
        ...(agentId ? { agentId } : {}),
      },
      occurredAt,
      correlationId: body?.correlationId ?? this.headerId(request, 'x-correlation-id') ?? this.ids.next(),
      causationId: this.headerId(request, 'x-causation-id') ?? null,
      expectedRevision: this.ifMatchOf(request),
    };
  }

  private headerId(request: AuthenticatedRequest, name: string): string | undefined {
    const value = request.headers[name];
    return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,128}$/.test(value) ? value : undefined;
  }

  private ifMatchOf(request: AuthenticatedRequest): number | undefined {
    const value = request.headers['if-match'];
    if (value === undefined) return undefined;
    // A quoted revision, weak or not; a bare one is tolerated. Unbalanced quotes and leading zeros are not.
    const match = typeof value === 'string' ? IF_MATCH.exec(value.trim()) : null;
    if (!match) {
      throw ProblemError.of('validation-failed', 'If-Match must be a revision ETag such as "3"', {
        errors: [{ field: 'If-Match', message: 'must be a quoted revision, e.g. "3"' }],
      });
    }
    return Number(match[1] ?? match[2]);
  }
}
