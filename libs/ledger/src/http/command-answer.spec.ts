import { answerOf, contentTypeOf, problemAnswer, renderAnswer } from './command-answer';
import { edgeProblem } from './problem';

const outcome = {
  stream: 'issue-is_1',
  revision: 3,
  position: 42n,
  extra: { issueId: 'is_1' },
  recorded: true,
  replayed: false,
};

describe('command answers', () => {
  it('maps an outcome to its status: 201 when it appended, 200 when it changed nothing', () => {
    expect(answerOf({ ...outcome, changed: true }).status).toBe(201);
    expect(answerOf({ ...outcome, changed: false }).status).toBe(200);
  });

  it('renders an outcome with a fixed member order, changed: false last and only when false', () => {
    expect(renderAnswer(answerOf({ ...outcome, changed: true }).answer)).toBe(
      '{"stream":"issue-is_1","revision":3,"position":"42","issueId":"is_1"}',
    );
    expect(renderAnswer(answerOf({ ...outcome, extra: {}, changed: false }).answer)).toBe(
      '{"stream":"issue-is_1","revision":3,"position":"42","changed":false}',
    );
  });

  it('renders the same bytes from a record read back with its members in another order', () => {
    const { answer } = answerOf({ ...outcome, changed: true });
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(answer).reverse())));
    expect(renderAnswer(reordered)).toBe(renderAnswer(answer));
  });

  it('renders a problem as its document and a record kept as text as that text', () => {
    const problem = edgeProblem('precondition-failed', 'stale', { stream: 's', currentRevision: 2 });
    const answer = problemAnswer(problem);
    expect(answer.status).toBe(412);
    expect(renderAnswer(answer.answer)).toBe(JSON.stringify(problem));
    expect(contentTypeOf(answer)).toBe('application/problem+json');
    expect(renderAnswer({ kind: 'body', body: '{"b":1,"a":2}' })).toBe('{"b":1,"a":2}');
    expect(contentTypeOf({ status: 404, answer: { kind: 'body', body: '{}' } })).toBe(
      'application/problem+json',
    );
    expect(contentTypeOf({ status: 200, answer: { kind: 'body', body: '{}' } })).toMatch(
      /^application\/json/,
    );
  });
});
