import { SetMetadata } from '@nestjs/common';
import type { Role } from '../../application/ports/api-key-store.port';

export const ROLES_KEY = 'ledger:roles';
export const PUBLIC_KEY = 'ledger:public';

/** The roles that may call a route; `admin` may always. Routes without @Roles or @Public are refused. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** A route anyone may call (health, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const ALL_ROLES: Role[] = ['service', 'agent', 'auditor', 'analyst', 'admin'];
