import type { DomainEvent } from '../shared/decider';

export const customerStream = (customerId: string): string => `customer-${customerId}`;

export const CHURN_KINDS = ['voluntary', 'involuntary'] as const;
export type ChurnKind = (typeof CHURN_KINDS)[number];

export interface CustomerRef {
  customerId: string;
}

export type CustomerChurned = DomainEvent<
  'CustomerChurned',
  CustomerRef & { kind: ChurnKind; reason?: string }
>;
export type CustomerReactivated = DomainEvent<'CustomerReactivated', CustomerRef>;
/** The PII-free receipt of a crypto-shredding: the customer's key is gone, the events stay. */
export type CustomerDataErased = DomainEvent<'CustomerDataErased', CustomerRef>;

export type CustomerEvent = CustomerChurned | CustomerReactivated | CustomerDataErased;

export type CustomerEventType = CustomerEvent['type'];

const customerEventTypes: Record<CustomerEventType, true> = {
  CustomerChurned: true,
  CustomerReactivated: true,
  CustomerDataErased: true,
};
export const CUSTOMER_EVENT_TYPES = Object.freeze(Object.keys(customerEventTypes) as CustomerEventType[]);

export const isCustomerEvent = (event: DomainEvent): event is CustomerEvent =>
  Object.hasOwn(customerEventTypes, event.type);
