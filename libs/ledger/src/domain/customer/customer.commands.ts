import type { CommandContext } from '../shared/decider';
import type { ChurnKind } from './customer.events';

export interface ChurnCustomer {
  type: 'ChurnCustomer';
  customerId: string;
  /** Default 'voluntary'. */
  kind?: ChurnKind;
  reason?: string;
  context: CommandContext;
}

export interface ReactivateCustomer {
  type: 'ReactivateCustomer';
  customerId: string;
  context: CommandContext;
}

export type CustomerCommand = ChurnCustomer | ReactivateCustomer;

export type CustomerCommandType = CustomerCommand['type'];
