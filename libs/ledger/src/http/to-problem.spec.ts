import { StorageUnavailableError } from '../application/ports/event-store.port';
import { toProblem } from './to-problem';

describe('toProblem', () => {
  it('answers an event storage that did not answer with 503, never 500', () => {
    const problem = toProblem(new StorageUnavailableError('EventStoreDB did not answer'));
    expect(problem).toMatchObject({ status: 503, type: '/errors/service-unavailable' });
  });
});
