/**
 * What the offline verifiers answer. Each failure names the check, in the order docs/hashing.md lists
 * them: event bytes -> hash -> leaf -> root -> signature.
 */
export type OfflineCheck =
  | 'format'
  | 'canonical-mismatch'
  | 'hash-mismatch'
  | 'event-mismatch'
  | 'inclusion-failed'
  | 'tree-size-mismatch'
  | 'signature-invalid'
  | 'untrusted-key'
  | 'chain-broken'
  | 'duplicate-event'
  | 'truncated'
  | 'digest-mismatch'
  | 'consistency-failed'
  | 'outside-cut-off'
  | 'incomplete';

export interface OfflineFailure {
  check: OfflineCheck;
  detail: string;
  /** 1-based line of the bundle, where there is one. */
  line?: number;
  stream?: string;
  revision?: number;
  eventId?: string;
}

export interface DigestSummary {
  treeSize: number;
  rootHash: string;
  createdAt: string;
}

/**
 * What an as-of bundle proved about its cut-off: every event it holds was in the tree of `cutOffDigest`;
 * the tree of `latest` extends that tree; each stream's next event, where the bundle shows one, came later.
 */
export interface CompletenessReport {
  asOf: string;
  cutOffDigest: DigestSummary;
  latest: DigestSummary;
  /** Streams whose next event the bundle shows, each recorded after asOf or appended after the digest. */
  streamsWithNext: number;
  /**
   * True when the cut-off digest was signed at or after asOf: the bundle is everything its streams held
   * at asOf. False: the digest is older, so the bundle is proved complete only up to its createdAt.
   */
  complete: boolean;
  /** Since when, in the clock of the digest: asOf when complete, else the digest's createdAt. */
  provedAsOf: string;
}

export interface OfflineReport {
  ok: boolean;
  events: number;
  digest: DigestSummary | null;
  /** Whose key the signature was checked against. */
  keySource: 'trusted' | 'embedded' | null;
  /** `sha256:` fingerprint of the key the digest is signed with, once it is known. */
  keyFingerprint: string | null;
  /** As-of bundles only. */
  completeness?: CompletenessReport;
  failure: OfflineFailure | null;
}

export class OfflineVerificationError extends Error {
  constructor(readonly failure: OfflineFailure) {
    super(failure.detail);
  }
}

export const fail = (failure: OfflineFailure): never => {
  throw new OfflineVerificationError(failure);
};

/** The report on a file that is not JSON at all: nothing in it could be checked. */
export const notJsonReport = (file: string): OfflineReport => ({
  ok: false,
  events: 0,
  digest: null,
  keySource: null,
  keyFingerprint: null,
  failure: { check: 'format', detail: `${file} is not JSON` },
});

export const summary = (digest: DigestSummary): DigestSummary => ({
  treeSize: digest.treeSize,
  rootHash: digest.rootHash,
  createdAt: digest.createdAt,
});

/**
 * The report as the command lines print it: one `ok:` line (with what an as-of bundle proved) or one
 * `FAILS` line; the same text from `ledger verify-*` and the standalone `ledger-verify`.
 */
export function describeReport(report: OfflineReport, what: string): string {
  const digest = report.digest
    ? `digest of tree size ${report.digest.treeSize} (root ${report.digest.rootHash}, ${report.digest.createdAt})`
    : 'no digest';
  const key = report.keyFingerprint ?? 'an unknown key';
  if (report.ok) {
    const signer =
      report.keySource === 'trusted'
        ? `signed by the trusted key ${key}`
        : `signed by the key it carries, ${key} (pass --public-key to check whose key that is)`;
    const lines = [`ok: ${what} verifies: ${report.events} event(s) in the ${digest}, ${signer}`];
    // An as-of bundle with no event still proves something: its completeness line says what.
    if (report.events === 0 && what === 'bundle' && !report.completeness) {
      lines.push('note: the bundle holds no event; it proves nothing about any event');
    }
    const completeness = report.completeness;
    if (completeness) lines.push(describeCompleteness(completeness));
    return `${lines.join('\n')}\n`;
  }
  const failure = report.failure!;
  const where = [
    failure.line === undefined ? undefined : `line ${failure.line}`,
    failure.stream === undefined ? undefined : `${failure.stream}@${failure.revision}`,
    failure.eventId === undefined ? undefined : `event ${failure.eventId}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${what} FAILS ${failure.check}${where ? ` (${where})` : ''}: ${failure.detail}\n`;
}

function describeCompleteness(c: CompletenessReport): string {
  const extends_ =
    `the ledger's tree of size ${c.latest.treeSize} (signed ${c.latest.createdAt}) only appended to it since, ` +
    `and ${c.streamsWithNext} stream(s) show their next event, which came after the cut-off`;
  if (c.complete) {
    return (
      `complete as of ${c.asOf}: the events are everything their streams held at that instant ` +
      `(cut-off digest of tree size ${c.cutOffDigest.treeSize}, signed ${c.cutOffDigest.createdAt}); ${extends_}`
    );
  }
  return (
    `NOT proved complete as of ${c.asOf}: the cut-off digest (tree size ${c.cutOffDigest.treeSize}) was ` +
    `signed at ${c.cutOffDigest.createdAt}, before the cut-off, so the bundle is proved complete only as of then; ${extends_}`
  );
}
