import { AppendTooLargeError, StorageUnavailableError } from '../application/ports/event-store.port';
import { toProblem } from './to-problem';

describe('toProblem', () => {
  it('answers an event storage that did not answer with 503, never 500', () => {
    const problem = toProblem(new StorageUnavailableError('EventStoreDB did not answer'));
    expect(problem).toMatchObject({ status: 503, type: '/errors/service-unavailable' });
  });

  it('answers an append over the event store maximum size with 413, never 500', () => {
    const problem = toProblem(new AppendTooLargeError('issue-1', 1_048_576));
    expect(problem).toMatchObject({ status: 413, type: '/errors/payload-too-large' });
    expect(problem.detail).toContain('1048576 bytes');
  });
});
