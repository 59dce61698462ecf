import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator } from '../../application/api-keys/api-keys';
import type { ApiKeyRecord, Role } from '../../application/ports/api-key-store.port';
import { ProblemError } from '../problem';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

export type AuthenticatedRequest = FastifyRequest & { apiKey?: ApiKeyRecord };

/** Fails closed: a route that declares neither roles nor @Public() is refused to everyone but admin. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw ProblemError.of('unauthorized', 'Send Authorization: Bearer <api key>');
    const apiKey = await this.authenticator.authenticate(match[1]);
    if (!apiKey) throw ProblemError.of('unauthorized', 'The API key is unknown or revoked');
    request.apiKey = apiKey;
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (apiKey.roles.includes('admin') || apiKey.roles.some((role) => allowed.includes(role))) return true;
    throw ProblemError.of(
      'forbidden',
      `This route needs one of the roles: ${[...new Set(['admin', ...allowed])].join(', ')}`,
    );
  }
}
