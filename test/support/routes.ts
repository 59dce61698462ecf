import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { Role } from '@app/ledger';
import { PUBLIC_KEY, ROLES_KEY } from '../../libs/ledger/src/http/auth/roles.decorator';
import type { LedgerHarness } from './ledger-harness';

export interface Route {
  method: string;
  path: string;
  roles: Role[] | undefined;
  isPublic: boolean;
}

/** Every route the app serves, read from Nest's own metadata, so a new route cannot escape this test. */
export function enumerateRoutes(h: LedgerHarness): Route[] {
  const routes: Route[] = [];
  for (const module of h.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const path =
          `/${[prefix, String(Reflect.getMetadata(PATH_METADATA, handler) ?? '')].filter(Boolean).join('/')}`
            .replace(/\/+/g, '/')
            .replace(/\/$/, '');
        routes.push({
          method: RequestMethod[method],
          path: path || '/',
          roles: Reflect.getMetadata(ROLES_KEY, handler) ?? Reflect.getMetadata(ROLES_KEY, controller),
          isPublic: Boolean(
            Reflect.getMetadata(PUBLIC_KEY, handler) ?? Reflect.getMetadata(PUBLIC_KEY, controller),
          ),
        });
      }
    }
  }
  return routes;
}

/** A path with its parameters filled in (`:stream` with an issue stream name, any other id with x1). */
export function concretePath(path: string): string {
  return path.replace(/:stream/g, 'issue-x1').replace(/:[A-Za-z]+/g, 'x1');
}
