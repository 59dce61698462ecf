import { PRIORITIES, type Priority } from '../../domain/issue/issue.events';

/** Targets per priority, in minutes (DESIGN.md "SLA"): first response and resolution. */
export type SlaTargets = Record<Priority, { firstResponseMinutes: number; resolutionMinutes: number }>;

export const DEFAULT_SLA_TARGETS: SlaTargets = {
  urgent: { firstResponseMinutes: 30, resolutionMinutes: 8 * 60 },
  high: { firstResponseMinutes: 2 * 60, resolutionMinutes: 24 * 60 },
  normal: { firstResponseMinutes: 8 * 60, resolutionMinutes: 3 * 24 * 60 },
  low: { firstResponseMinutes: 24 * 60, resolutionMinutes: 7 * 24 * 60 },
};

/**
 * A running clock is "at risk" once strictly more than this share of its target has elapsed
 * (AT_RISK_NUMERATOR / AT_RISK_DENOMINATOR = 80%), compared in integers so that exactly 80% is on track.
 */
const AT_RISK_NUMERATOR = 4;
const AT_RISK_DENOMINATOR = 5;

/** `stopped`: the clock ended without its event and within its target; counted in neither rate. */
export const SLA_STATES = ['met', 'breached', 'at_risk', 'on_track', 'stopped'] as const;
export type SlaVerdict = (typeof SLA_STATES)[number];
export type SlaStateCode = 0 | 1 | 2 | 3 | 4;

/**
 * The state of one SLA clock at `asOf` (DESIGN.md "SLA"), on epoch milliseconds, NaN for "never":
 * - its event (`event`) by `asOf`, not after the clock ended without it: met by the due time, else breached;
 * - ended without its event (`ended`: first response, the issue resolved or withdrawn before any agent
 *   response; resolution, withdrawn) by `asOf`: breached if that was past the due time, else stopped;
 * - still running at `asOf`: breached past the due time, at risk past 80% of the target, else on track.
 * An event at the same instant the clock ended still counts (the contact made in the resolving call).
 * The one rule for GET /issues/:id and every metric, so the two never disagree.
 */
export function slaState(
  start: number,
  event: number,
  ended: number,
  targetMinutes: number,
  asOf: number,
): SlaStateCode {
  const target = targetMinutes * 60_000;
  const due = start + target;
  if (event <= asOf && !(ended < event)) return event <= due ? 0 : 1;
  if (ended <= asOf) return ended > due ? 1 : 4;
  if (asOf > due) return 1;
  return (asOf - start) * AT_RISK_DENOMINATOR > target * AT_RISK_NUMERATOR ? 2 : 3;
}

export interface SlaClock {
  targetMinutes: number;
  dueAt: string;
  state: SlaVerdict;
  /** Minutes from start to where the clock ended (its event, or the end without it), or to `asOf` while running. */
  elapsedMinutes: number;
}

export interface IssueSlaInput {
  priority: Priority;
  openedAt: string;
  /** The first outbound contact by an agent. */
  firstResponseAt: string | null;
  /** The first resolution: the resolution clock stops there, a reopen does not restart it. */
  firstResolvedAt: string | null;
  /**
   * The end of the issue's first open stretch: its first resolution, or its close when it was withdrawn
   * (closed without a resolution). Both clocks end there at the latest.
   */
  settledAt: string | null;
}

const msOf = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

function clock(start: number, event: number, ended: number, targetMinutes: number, asOf: number): SlaClock {
  const state = SLA_STATES[slaState(start, event, ended, targetMinutes, asOf)];
  // Where the clock ended: at its event, without it, or still running at asOf.
  const end = event <= asOf && !(ended < event) ? event : ended <= asOf ? ended : asOf;
  return {
    targetMinutes,
    dueAt: new Date(start + targetMinutes * 60_000).toISOString(),
    state,
    elapsedMinutes: Math.round((end - start) / 60_000),
  };
}

/** Computed at query time from stored timestamps, never stored, so rebuilds stay deterministic. */
export function issueSla(
  input: IssueSlaInput,
  asOf: Date,
  targets: SlaTargets = DEFAULT_SLA_TARGETS,
): { firstResponse: SlaClock; resolution: SlaClock } {
  const target = targets[input.priority];
  const start = Date.parse(input.openedAt);
  const settled = msOf(input.settledAt);
  const at = asOf.getTime();
  return {
    firstResponse: clock(start, msOf(input.firstResponseAt), settled, target.firstResponseMinutes, at),
    resolution: clock(start, msOf(input.firstResolvedAt), settled, target.resolutionMinutes, at),
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
