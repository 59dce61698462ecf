import { assertNever, type Decider } from '../shared/decider';
import { ruleViolation } from '../shared/error-types';
import { withoutUndefined } from '../shared/plain-data';
import type { CustomerCommand } from './customer.commands';
import type { ChurnKind, CustomerEvent } from './customer.events';

interface CustomerHistory {
  customerId: string;
  churnCount: number;
  reactivationCount: number;
  dataErased: boolean;
}

/** `none`: no stream yet. Customer commands create the stream, so `none` is a valid starting point. */
export type CustomerState =
  | { status: 'none' }
  | (CustomerHistory & { status: 'active' })
  | (CustomerHistory & { status: 'churned'; kind: ChurnKind; reason?: string });

export const initialCustomerState: CustomerState = { status: 'none' };

function historyOf(state: CustomerState, customerId: string): CustomerHistory {
  if (state.status === 'none') return { customerId, churnCount: 0, reactivationCount: 0, dataErased: false };
  const { customerId: id, churnCount, reactivationCount, dataErased } = state;
  return { customerId: id, churnCount, reactivationCount, dataErased };
}

function evolve(state: CustomerState, event: CustomerEvent): CustomerState {
  const history = historyOf(state, event.data.customerId);
  switch (event.type) {
    case 'CustomerChurned':
      return withoutUndefined({
        ...history,
        status: 'churned',
        churnCount: history.churnCount + 1,
        kind: event.data.kind,
        reason: event.data.reason,
      });
    case 'CustomerReactivated':
      return { ...history, status: 'active', reactivationCount: history.reactivationCount + 1 };
    case 'CustomerDataErased':
      return state.status === 'none'
        ? { ...history, status: 'active', dataErased: true }
        : { ...state, dataErased: true };
    default:
      return assertNever(event);
  }
}

function decide(command: CustomerCommand, state: CustomerState): CustomerEvent[] {
  const { customerId } = command;
  switch (command.type) {
    case 'ChurnCustomer':
      if (state.status === 'churned') {
        throw ruleViolation('customer-already-churned', `Customer ${customerId} has already churned`, {
          customerId,
          kind: state.kind,
        });
      }
      return [
        {
          type: 'CustomerChurned',
          data: withoutUndefined({ customerId, kind: command.kind ?? 'voluntary', reason: command.reason }),
        },
      ];
    case 'ReactivateCustomer':
      if (state.status !== 'churned') {
        throw ruleViolation('customer-not-churned', `Customer ${customerId} has not churned`, { customerId });
      }
      return [{ type: 'CustomerReactivated', data: { customerId } }];
    default:
      return assertNever(command);
  }
}

export const customerDecider: Decider<CustomerState, CustomerCommand, CustomerEvent> = {
  initialState: initialCustomerState,
  evolve,
  decide,
};
