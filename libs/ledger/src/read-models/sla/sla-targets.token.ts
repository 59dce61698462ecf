/** Injection token of the configured SlaTargets (LEDGER_SLA_TARGETS). */
export const SLA_TARGETS = Symbol('SlaTargets');
