import { PRIORITIES, type Priority } from '../../domain/issue/issue.events';

/** Targets per priority, in minutes (DESIGN.md "SLA"): first response and resolution. */
export type SlaTargets = Record<Priority, { firstResponseMinutes: number; resolutionMinutes: number }>;

export const DEFAULT_SLA_TARGETS: SlaTargets = {
  urgent: { firstResponseMinutes: 30, resolutionMinutes: 8 * 60 },
  high: { firstResponseMinutes: 2 * 60, resolutionMinutes: 24 * 60 },
  normal: { firstResponseMinutes: 8 * 60, resolutionMinutes: 3 * 24 * 60 },
  low: { firstResponseMinutes: 24 * 60, resolutionMinutes: 7 * 24 * 60 },
};

/** Share of a target elapsed from which a still-running clock is "at risk". */
export const AT_RISK_SHARE = 0.8;

export type SlaVerdict = 'met' | 'breached' | 'at_risk' | 'on_track';

export interface SlaClock {
  targetMinutes: number;
  dueAt: string;
  /** met / breached once stopped; at_risk (over 80% elapsed) or on_track while running; breached when overdue. */
  state: SlaVerdict;
  /** Minutes from start to stop (or to `asOf` while running). */
  elapsedMinutes: number;
}

export interface IssueSlaInput {
  priority: Priority;
  openedAt: string;
  firstResponseAt: string | null;
  /** The first resolution: the resolution clock stops there, a reopen does not restart it. */
  firstResolvedAt: string | null;
}

function clock(startIso: string, stopIso: string | null, targetMinutes: number, asOf: Date): SlaClock {
  const start = Date.parse(startIso);
  const due = start + targetMinutes * 60_000;
  const stop = stopIso === null ? null : Date.parse(stopIso);
  const end = stop ?? asOf.getTime();
  const elapsed = end - start;
  const state: SlaVerdict =
    stop !== null
      ? stop <= due
        ? 'met'
        : 'breached'
      : end > due
        ? 'breached'
        : elapsed >= AT_RISK_SHARE * targetMinutes * 60_000
          ? 'at_risk'
          : 'on_track';
  return {
    targetMinutes,
    dueAt: new Date(due).toISOString(),
    state,
    elapsedMinutes: Math.round(elapsed / 60_000),
  };
}

/** Computed at query time from stored timestamps, never stored, so rebuilds stay deterministic. */
export function issueSla(
  input: IssueSlaInput,
  asOf: Date,
  targets: SlaTargets = DEFAULT_SLA_TARGETS,
): { firstResponse: SlaClock; resolution: SlaClock } {
  const target = targets[input.priority];
  return {
    firstResponse: clock(input.openedAt, input.firstResponseAt, target.firstResponseMinutes, asOf),
    resolution: clock(input.openedAt, input.firstResolvedAt, target.resolutionMinutes, asOf),
  };
}

/**
 * SLA targets from configuration: JSON such as `{"urgent":{"firstResponseMinutes":15}}`, merged over the
 * defaults. Throws with a message naming the bad entry.
 */
export function parseSlaTargets(json: string | undefined): SlaTargets {
  if (json === undefined || json.trim() === '') return DEFAULT_SLA_TARGETS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('LEDGER_SLA_TARGETS is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('LEDGER_SLA_TARGETS must be an object keyed by priority');
  }
  const targets = structuredClone(DEFAULT_SLA_TARGETS);
  for (const [priority, value] of Object.entries(parsed)) {
    if (!(PRIORITIES as readonly string[]).includes(priority)) {
      throw new Error(`LEDGER_SLA_TARGETS: unknown priority ${priority}; expected ${PRIORITIES.join(', ')}`);
    }
    for (const [field, minutes] of Object.entries(value as Record<string, unknown>)) {
      if (field !== 'firstResponseMinutes' && field !== 'resolutionMinutes') {
        throw new Error(`LEDGER_SLA_TARGETS: unknown field ${priority}.${field}`);
      }
      if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes <= 0) {
        throw new Error(`LEDGER_SLA_TARGETS: ${priority}.${field} must be a positive integer of minutes`);
      }
      targets[priority as Priority][field] = minutes;
    }
  }
  return targets;
}
