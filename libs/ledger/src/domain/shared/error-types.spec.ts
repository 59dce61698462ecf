import { NotFoundError, RuleViolationError } from './domain-error';
import { DOMAIN_ERROR_TYPES, notFound, ruleViolation } from './error-types';

describe('domain error registry', () => {
  it('uses stable kebab-case slugs with a title and a 404 or 409 status', () => {
    for (const [type, { status, title }] of Object.entries(DOMAIN_ERROR_TYPES)) {
      expect(type).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
      expect([404, 409]).toContain(status);
      expect(title.length).toBeGreaterThan(0);
    }
  });

  it('builds errors of the class matching the status', () => {
    const missing = notFound('charge-not-found', 'no charge', { chargeId: 'ch_1' });
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toEqual(expect.objectContaining({ type: 'charge-not-found', kind: 'not-found' }));
    expect(missing.details).toEqual({ chargeId: 'ch_1' });
    const broken = ruleViolation('issue-closed', 'closed');
    expect(broken).toBeInstanceOf(RuleViolationError);
    expect(broken).toEqual(expect.objectContaining({ type: 'issue-closed', kind: 'rule-violation' }));
  });
});
