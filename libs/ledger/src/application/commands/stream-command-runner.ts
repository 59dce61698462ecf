import type { CommandContext, Decider, DomainEvent } from '../../domain/shared/decider';
import { AggregateStateCache } from '../aggregate-state-cache';
import type { Clock } from '../ports/clock.port';
import type { EventStore, NewEvent } from '../ports/event-store.port';
import { WrongExpectedRevisionError } from '../ports/event-store.port';
import { IdempotencyKeyReusedError } from '../ports/idempotency-store.port';
import type { IdGenerator } from '../ids';
import type { CommandMeta, CommandOutcome } from './command-meta';

/** How often a command without If-Match re-reads and re-decides after losing a race. */
export const MAX_DECISION_ATTEMPTS = 5;

export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError';
  constructor(
    readonly stream: string,
    readonly expectedRevision: number,
    readonly currentRevision: number,
  ) {
    super(`${stream} is at revision ${currentRevision}, not ${expectedRevision}`);
  }
}

export class ConcurrentModificationError extends Error {
  override readonly name = 'ConcurrentModificationError';
  constructor(
    readonly stream: string,
    readonly attempts: number,
  ) {
    super(`${stream} changed during each of ${attempts} attempts`);
  }
}

export interface StreamCommand<State, Command, Event extends DomainEvent> {
  stream: string;
  decider: Decider<State, Command, Event>;
  build(context: CommandContext): Command;
  meta: CommandMeta;
  /** Fields added to the answer, e.g. the issueId of a created issue. */
  extraBody?: Record<string, unknown>;
  schemaVersionOf(type: string): number;
}

/**
 * Runs work one at a time per key, in arrival order; keys are forgotten once their queue is empty.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}

/**
 * Load, fold, decide, append at the loaded revision. Commands on one stream run one at a time in this
 * process, so they never race each other: each decides on what the one before it appended. A race with
 * another process re-runs the decision, since the winner may have changed what the rules allow; with
 * If-Match the caller decided on a revision, so a race is 412.
 */
export class StreamCommandRunner {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly eventStore: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly states: AggregateStateCache = new AggregateStateCache(),
  ) {}

  run<State, Command, Event extends DomainEvent>(
    command: StreamCommand<State, Command, Event>,
  ): Promise<CommandOutcome> {
    return this.queue.run(command.stream, () => this.decideAndAppend(command));
  }

  private async decideAndAppend<State, Command, Event extends DomainEvent>(
    command: StreamCommand<State, Command, Event>,
  ): Promise<CommandOutcome> {
    const { stream, decider, meta } = command;
    for (let attempt = 1; attempt <= MAX_DECISION_ATTEMPTS; attempt++) {
      const loaded = await this.states.load(this.eventStore, stream, decider);
      const { state, revision, position } = loaded;
      const extra = command.extraBody ?? {};
      // Checked on every load, the first and each after a lost race: the stream may hold this very command,
      // appended by an earlier try whose idempotency record was never written (or by the race's winner).
      const earlier = meta.idempotency && loaded.keyed.get(meta.idempotency.record.scope);
      if (earlier && meta.idempotency) {
        if (earlier.fingerprint !== meta.idempotency.fingerprint) {
          throw new IdempotencyKeyReusedError(stream, earlier.revision);
        }
        return {
          stream,
          revision: earlier.revision,
          position: earlier.position,
          changed: true,
          extra,
          recorded: false,
          replayed: true,
        };
      }
      if (meta.expectedRevision !== undefined && meta.expectedRevision !== revision) {
        throw new PreconditionFailedError(stream, meta.expectedRevision, revision);
      }
      const now = this.clock.now().toISOString();
      const decided = decider.decide(
        command.build({ occurredAt: meta.occurredAt, now, actor: meta.actor }),
        state,
      );
      if (decided.length === 0) {
        return { stream, revision, position, changed: false, extra, recorded: false, replayed: false };
      }
      const events = decided.map((event) =>
        this.toNewEvent(event, meta, now, command.schemaVersionOf(event.type)),
      );
      const record =
        meta.idempotency && this.eventStore.recordsIdempotency
          ? { ...meta.idempotency.record, extra }
          : undefined;
      try {
        const result = await this.eventStore.append(
          stream,
          events,
          revision === -1 ? 'no_stream' : revision,
          record && { idempotency: record },
        );
        if (result.nextExpectedRevision === revision + decided.length) {
          this.states.advance(
            stream,
            decider,
            loaded,
            decided,
            result.position,
            events.map((event) => event.metadata),
          );
        }
        return {
          stream,
          revision: result.nextExpectedRevision,
          position: result.position,
          changed: true,
          extra,
          recorded: record !== undefined,
          replayed: false,
        };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (meta.expectedRevision !== undefined) {
          throw new PreconditionFailedError(stream, meta.expectedRevision, error.actual);
        }
      }
    }
    throw new ConcurrentModificationError(stream, MAX_DECISION_ATTEMPTS);
  }

  private toNewEvent(event: DomainEvent, meta: CommandMeta, now: string, schemaVersion: number): NewEvent {
    return {
      type: event.type,
      schemaVersion,
      data: event.data as Record<string, unknown>,
      metadata: {
        eventId: this.ids.next(),
        occurredAt: meta.occurredAt,
        recordedAt: now,
        actor: meta.actor,
        correlationId: meta.correlationId,
        causationId: meta.causationId,
        ...(meta.idempotency
          ? {
              idempotencyKey: meta.idempotency.key,
              idempotencyScope: meta.idempotency.record.scope,
              requestFingerprint: meta.idempotency.fingerprint,
            }
          : {}),
        schemaVersion,
      },
    };
  }
}
