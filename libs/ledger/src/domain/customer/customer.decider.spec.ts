import { given } from '@app/testing';
import type { CommandContext } from '../shared/decider';
import { RuleViolationError } from '../shared/domain-error';
import type { CustomerCommand } from './customer.commands';
import { customerDecider } from './customer.decider';
import { customerStream, type CustomerEvent } from './customer.events';

const context: CommandContext = {
  occurredAt: '2026-03-01T10:00:00.000Z',
  now: '2026-03-01T10:00:01.000Z',
  actor: { kind: 'service', id: 'key-billing' },
};
const customerId = 'cu_1';

const churn = (fields: { kind?: 'voluntary' | 'involuntary'; reason?: string } = {}): CustomerCommand => ({
  type: 'ChurnCustomer',
  customerId,
  ...fields,
  context,
});
const reactivate: CustomerCommand = { type: 'ReactivateCustomer', customerId, context };
const churned: CustomerEvent = { type: 'CustomerChurned', data: { customerId, kind: 'voluntary' } };
const reactivated: CustomerEvent = { type: 'CustomerReactivated', data: { customerId } };

describe('customer decider', () => {
  it('names the stream customer-{customerId}', () => {
    expect(customerStream('cu_1')).toBe('customer-cu_1');
  });

  describe('ChurnCustomer', () => {
    it('creates the stream with the churn, its kind and reason', () => {
      const state = given(customerDecider)
        .when(churn({ kind: 'involuntary', reason: 'card expired' }))
        .then([
          { type: 'CustomerChurned', data: { customerId, kind: 'involuntary', reason: 'card expired' } },
        ]);
      expect(state).toStrictEqual({
        status: 'churned',
        customerId,
        kind: 'involuntary',
        reason: 'card expired',
        churnCount: 1,
        reactivationCount: 0,
        dataErased: false,
      });
    });

    it('defaults the kind to voluntary', () => {
      given(customerDecider).when(churn()).then([churned]);
    });

    it('churns again after a reactivation', () => {
      const state = given(customerDecider, [churned, reactivated]).when(churn()).then([churned]);
      expect(state).toEqual(
        expect.objectContaining({ status: 'churned', churnCount: 2, reactivationCount: 1 }),
      );
    });

    it('refuses a customer who has churned and not come back', () => {
      given(customerDecider, [churned])
        .when(churn())
        .thenThrows(RuleViolationError, 'customer-already-churned');
      given(customerDecider, [churned, reactivated, churned])
        .when(churn({ kind: 'involuntary' }))
        .thenThrows(RuleViolationError, 'customer-already-churned');
    });
  });

  describe('ReactivateCustomer', () => {
    it('reactivates a churned customer', () => {
      const state = given(customerDecider, [churned]).when(reactivate).then([reactivated]);
      expect(state).toStrictEqual({
        status: 'active',
        customerId,
        churnCount: 1,
        reactivationCount: 1,
        dataErased: false,
      });
    });

    it('refuses a customer who has not churned, whether new or reactivated', () => {
      given(customerDecider).when(reactivate).thenThrows(RuleViolationError, 'customer-not-churned');
      given(customerDecider, [churned, reactivated])
        .when(reactivate)
        .thenThrows(RuleViolationError, 'customer-not-churned');
    });
  });

  describe('evolve', () => {
    it('records an erasure receipt without losing the churn state', () => {
      const erased: CustomerEvent = { type: 'CustomerDataErased', data: { customerId } };
      expect(given(customerDecider, [churned, erased]).state).toEqual(
        expect.objectContaining({ status: 'churned', dataErased: true }),
      );
      expect(given(customerDecider, [erased]).state).toEqual(
        expect.objectContaining({ status: 'active', dataErased: true, churnCount: 0 }),
      );
    });
  });
});
