import type { CommandOutcome } from '../application/commands/command-meta';
import type { IdempotentAnswer } from '../application/ports/idempotency-store.port';
import { PROBLEM_CONTENT_TYPE, type Problem } from './problem';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** An answer and the status it is sent with: what a command's idempotency record keeps. */
export interface CommandAnswer {
  status: number;
  answer: IdempotentAnswer;
}

/** The status of a command that appended; one that repeated what is recorded and changed nothing is 200. */
export const APPENDED_STATUS = 201;

export function answerOf(outcome: CommandOutcome): CommandAnswer {
  return {
    status: outcome.changed ? APPENDED_STATUS : 200,
    answer: {
      kind: 'outcome',
      stream: outcome.stream,
      revision: outcome.revision,
      position: outcome.position.toString(),
      extra: outcome.extra,
      changed: outcome.changed,
    },
  };
}

export function problemAnswer(problem: Problem): CommandAnswer {
  return { status: problem.status, answer: { kind: 'problem', problem: { ...problem } } };
}

/**
 * The one renderer of a command's body: the first answer and every replay of its record go through it,
 * so they are the same bytes. The member order is fixed here, not taken from how the record was stored.
 */
export function renderAnswer(answer: IdempotentAnswer): string {
  switch (answer.kind) {
    case 'outcome':
      return JSON.stringify({
        stream: answer.stream,
        revision: answer.revision,
        position: answer.position,
        ...answer.extra,
        ...(answer.changed ? {} : { changed: false }),
      });
    case 'problem':
      return JSON.stringify(answer.problem);
    case 'body':
      return answer.body;
    default: {
      const unknown: never = answer;
      throw new Error(`unknown idempotent answer ${JSON.stringify(unknown)}`);
    }
  }
}

export function contentTypeOf({ status, answer }: CommandAnswer): string {
  if (answer.kind === 'body') return status < 300 ? JSON_CONTENT_TYPE : PROBLEM_CONTENT_TYPE;
  return answer.kind === 'problem' ? PROBLEM_CONTENT_TYPE : JSON_CONTENT_TYPE;
}
