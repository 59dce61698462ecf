import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { toProblem } from './to-problem';

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const problem = toProblem(exception);
    // Only the error is logged, never the request: bodies may hold personal data.
    if (problem.status >= 500)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    // A 503 (a minPosition wait, a locked storage, no Merkle tree yet) is worth sending again, soon.
    if (problem.status === 503) reply.header('retry-after', '1');
    reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }
}
