import {
  checkDigest,
  checkEventBytes,
  checkInclusion,
  fingerprintOrNull,
  isObject,
  parseDigest,
  sizeOf,
  type ExportedEvent,
} from './checks';
import type { VerifyCrypto } from './crypto';
import { ed25519PublicKeyDer, type SignedDigest } from './digest';
import { ZERO_HASH } from './event';
import { checkConsistency } from './proof';
import {
  fail,
  OfflineVerificationError,
  summary,
  type CompletenessReport,
  type OfflineFailure,
  type OfflineReport,
} from './report';
import { bytesEqual } from './bytes';

/** Line format of `ledger export` (docs/hashing.md §10). */
export const BUNDLE_KIND = 'ledger-evidence-bundle';
export const BUNDLE_VERSION = 1;

/** A stream selection's time cut-off, as `ledger export --as-of | --occurred-at` gave it (ISO-8601). */
export type BundleCutOff = { asOf?: string; occurredAt?: string };

export type BundleSelection =
  | ({ issueId: string } & BundleCutOff)
  | ({ customerId: string } & BundleCutOff)
  | { recordedFrom: string; recordedTo: string };

/**
 * Header member of an `--as-of` bundle: the header's `digest` is the first one signed at or after `asOf`
 * (the cut-off digest), `latest` the newest at export time, `consistency` the RFC 9162 proof from the first
 * to the second, and `next` the number of `next` lines: for each selected stream, its first event after the
 * cut-off, proved against `latest`.
 */
export interface BundleCompleteness {
  asOf: string;
  latest: SignedDigest;
  consistency: string[];
  next: number;
}

interface ChainLink {
  prevHash: string | undefined;
  hash: string;
  line: number;
}

/** Links of consecutive revisions present in a bundle, and revision 0's zero prevHash. */
export class BundleChains {
  private readonly seen = new Map<string, Map<number, ChainLink>>();

  add(event: ExportedEvent, line: number): void {
    let stream = this.seen.get(event.stream);
    if (!stream) this.seen.set(event.stream, (stream = new Map()));
    if (stream.has(event.revision)) {
      fail({
        check: 'duplicate-event',
        detail: `${event.stream}@${event.revision} appears twice`,
        line,
        stream: event.stream,
        revision: event.revision,
      });
    }
    stream.set(event.revision, { prevHash: event.metadata.prevHash, hash: event.metadata.hash, line });
  }

  /** The stream's highest revision in the bundle, or null when the bundle holds none of it. */
  last(stream: string): { revision: number; hash: string } | null {
    const revisions = this.seen.get(stream);
    if (!revisions) return null;
    const revision = Math.max(...revisions.keys());
    return { revision, hash: revisions.get(revision)!.hash };
  }

  /**
   * Revisions of each stream must be contiguous (a hole is a removed line), start at 0 when the bundle
   * holds whole streams, and link by prevHash.
   */
  check(wholeStreams: boolean): void {
    for (const [name, revisions] of this.seen) {
      const sorted = [...revisions].sort(([a], [b]) => a - b);
      const first = sorted[0][0];
      if (wholeStreams && first !== 0) {
        fail({
          check: 'chain-broken',
          detail: `${name} starts at revision ${first}, the selection holds whole streams`,
          line: sorted[0][1].line,
          stream: name,
          revision: first,
        });
      }
      sorted.forEach(([revision, entry], i) => {
        if (revision !== first + i) {
          fail({
            check: 'chain-broken',
            detail: `${name}: revision ${first + i} is missing before revision ${revision}`,
            line: entry.line,
            stream: name,
            revision,
          });
        }
        const expected = revision === 0 ? ZERO_HASH : revisions.get(revision - 1)?.hash;
        if (expected !== undefined && entry.prevHash !== expected) {
          fail({
            check: 'chain-broken',
            detail: `${name}@${revision}: prevHash ${entry.prevHash}, previous event's hash ${expected}`,
            line: entry.line,
            stream: name,
            revision,
          });
        }
      });
    }
  }
}

interface NextLine {
  event: ExportedEvent;
  leafIndex: number;
  line: number;
}

interface CutOff extends Omit<BundleCompleteness, 'latest' | 'consistency'> {
  at: number;
  latest: SignedDigest;
  consistency: unknown;
}

function parseCompleteness(value: unknown, selection: unknown): CutOff {
  const at = isObject(value) && typeof value.asOf === 'string' ? Date.parse(value.asOf) : Number.NaN;
  if (!isObject(value) || Number.isNaN(at)) {
    return fail({
      check: 'format',
      detail: 'completeness must hold asOf (ISO-8601), latest, consistency, next',
    });
  }
  if (!isObject(selection) || selection.asOf !== value.asOf) {
    fail({ check: 'format', detail: "completeness.asOf is not the selection's asOf" });
  }
  return {
    asOf: value.asOf as string,
    at,
    latest: parseDigest(value.latest, 'completeness.latest'),
    consistency: value.consistency,
    next: sizeOf(value.next, 'completeness.next'),
  };
}

const whereOf = (event: ExportedEvent, line: number): Partial<OfflineFailure> => ({
  line,
  stream: event.stream,
  revision: event.revision,
  eventId: event.metadata.eventId,
});

/**
 * Checks a bundle line by line, so a large bundle is streamed: every event line's canonical bytes, hash,
 * leaf and inclusion in the header's digest as it arrives; at `finish`, the chains between the bundle's
 * events of each stream, the event count, an as-of bundle's completeness, and last the signatures.
 */
export class BundleVerifier {
  private lineNo = 0;
  private events = 0;
  private header: Record<string, unknown> | undefined;
  private digest: SignedDigest | undefined;
  private cutOff: CutOff | undefined;
  private keyFingerprint: string | null = null;
  private failure: OfflineFailure | null = null;
  private readonly chains = new BundleChains();
  private readonly leaves = new Set<number>();
  private readonly next: NextLine[] = [];

  constructor(
    private readonly crypto: VerifyCrypto,
    private readonly trustedPublicKey?: string,
  ) {}

  /** One line without its newline, in order; a failure is kept and later lines are ignored. */
  async push(text: string): Promise<void> {
    if (this.failure) return;
    this.lineNo++;
    try {
      if (this.lineNo === 1) await this.readHeader(text);
      else await this.readLine(text);
    } catch (error) {
      if (!(error instanceof OfflineVerificationError)) throw error;
      this.failure = { ...error.failure, line: error.failure.line ?? this.lineNo };
    }
  }

  async finish(): Promise<OfflineReport> {
    const digest = this.digest ? summary(this.digest) : null;
    const failed = (failure: OfflineFailure): OfflineReport => ({
      ok: false,
      failure,
      events: this.events,
      digest,
      keySource: null,
      keyFingerprint: this.keyFingerprint,
    });
    if (this.failure) return failed(this.failure);
    if (!this.header || !this.digest)
      return failed({ check: 'format', detail: 'the bundle is empty', line: 1 });
    let completeness: CompletenessReport | undefined;
    try {
      const selection = this.header.selection as Record<string, unknown> | undefined;
      this.chains.check(selection !== undefined && ('issueId' in selection || 'customerId' in selection));
      if (this.header.events !== this.events) {
        fail({
          check: 'truncated',
          detail: `the header announces ${String(this.header.events)} events, the bundle holds ${this.events}`,
        });
      }
      if (this.cutOff) completeness = await this.checkCompleteness(this.digest, this.cutOff);
      await checkDigest(this.crypto, this.digest, this.trustedPublicKey);
    } catch (error) {
      if (error instanceof OfflineVerificationError) return failed(error.failure);
      throw error;
    }
    return {
      ok: true,
      failure: null,
      events: this.events,
      digest,
      keySource: this.trustedPublicKey ? 'trusted' : 'embedded',
      keyFingerprint: this.keyFingerprint,
      ...(completeness ? { completeness } : {}),
    };
  }

  private parse(text: string, what: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail({ check: 'format', detail: `line ${this.lineNo} is not JSON` });
    }
    if (!isObject(value)) return fail({ check: 'format', detail: `line ${this.lineNo} is not ${what}` });
    return value;
  }

  private async readHeader(text: string): Promise<void> {
    const header = this.parse(text, 'a bundle header');
    if (header.kind !== BUNDLE_KIND || header.version !== BUNDLE_VERSION) {
      fail({ check: 'format', detail: `line 1 is not a ${BUNDLE_KIND} version ${BUNDLE_VERSION} header` });
    }
    this.digest = parseDigest(header.digest);
    this.keyFingerprint = await fingerprintOrNull(this.crypto, this.digest.publicKey);
    if (header.publicKeyFingerprint !== undefined && header.publicKeyFingerprint !== this.keyFingerprint) {
      fail({
        check: 'format',
        detail: `the header names key ${String(header.publicKeyFingerprint)}, the digest carries ${String(this.keyFingerprint)}`,
      });
    }
    if (header.completeness !== undefined)
      this.cutOff = parseCompleteness(header.completeness, header.selection);
    this.header = header;
  }

  private async readLine(text: string): Promise<void> {
    const line = this.parse(text, 'an event line');
    if (line.kind === 'next' && this.cutOff) return this.readNext(line, this.cutOff);
    if (line.kind !== 'event') fail({ check: 'format', detail: `line ${this.lineNo} is not an event line` });
    if (this.next.length > 0) {
      fail({ check: 'format', detail: `line ${this.lineNo}: an event line after the "next" lines` });
    }
    const { event, hash } = await checkEventBytes(this.crypto, line.event);
    const where = whereOf(event, this.lineNo);
    await checkInclusion(this.crypto, hash, line.leafIndex, line.proof, this.digest!, where);
    if (this.leaves.has(line.leafIndex as number)) {
      fail({ check: 'duplicate-event', detail: `leaf ${String(line.leafIndex)} appears twice`, ...where });
    }
    if (this.cutOff && !(Date.parse(String(event.metadata.recordedAt)) <= this.cutOff.at)) {
      fail({
        check: 'outside-cut-off',
        detail: `recorded at ${String(event.metadata.recordedAt)}, after the bundle's cut-off ${this.cutOff.asOf}`,
        ...where,
      });
    }
    this.leaves.add(line.leafIndex as number);
    this.chains.add(event, this.lineNo);
    this.events++;
  }

  /** A stream's first event after the cut-off, proved against the latest digest; checked at finish. */
  private async readNext(line: Record<string, unknown>, cutOff: CutOff): Promise<void> {
    const { event, hash } = await checkEventBytes(this.crypto, line.event);
    const where = whereOf(event, this.lineNo);
    const leafIndex = await checkInclusion(
      this.crypto,
      hash,
      line.leafIndex,
      line.proof,
      cutOff.latest,
      where,
    );
    if (this.next.some((other) => other.event.stream === event.stream)) {
      fail({ check: 'duplicate-event', detail: `two "next" lines for ${event.stream}`, ...where });
    }
    this.next.push({ event, leafIndex, line: this.lineNo });
  }

  /**
   * The cut-off digest's tree is extended by the latest one (so the leaf indexes of both name the same
   * events), both are signed by the same key, and each `next` line is the event right after the stream's
   * last one in the bundle and came after the cut-off: recorded after it, or appended after the cut-off
   * digest was signed. An event that is neither belonged in the bundle.
   */
  private async checkCompleteness(digest: SignedDigest, cutOff: CutOff): Promise<CompletenessReport> {
    const { latest } = cutOff;
    if (this.next.length !== cutOff.next) {
      fail({
        check: 'truncated',
        detail: `the header announces ${cutOff.next} "next" lines, the bundle holds ${this.next.length}`,
      });
    }
    for (const { event, leafIndex, line } of this.next) {
      const where = whereOf(event, line);
      const last = this.chains.last(event.stream);
      const revision = last ? last.revision + 1 : 0;
      const prevHash = last ? last.hash : ZERO_HASH;
      if (event.revision !== revision || event.metadata.prevHash !== prevHash) {
        fail({
          check: 'chain-broken',
          detail: `the "next" event of ${event.stream} must be revision ${revision} with prevHash ${prevHash}`,
          ...where,
        });
      }
      const recordedAt = Date.parse(String(event.metadata.recordedAt));
      if (leafIndex < digest.treeSize && !(recordedAt > cutOff.at)) {
        fail({
          check: 'incomplete',
          detail:
            `${event.stream}@${event.revision} was recorded at ${String(event.metadata.recordedAt)}, by the ` +
            `cut-off ${cutOff.asOf}, and is in the cut-off digest's tree (leaf ${leafIndex} < ${digest.treeSize}), ` +
            'yet the bundle leaves it out',
          ...where,
        });
      }
    }
    if (latest.treeSize < digest.treeSize) {
      fail({
        check: 'consistency-failed',
        detail: `the latest digest (tree size ${latest.treeSize}) is older than the cut-off digest (${digest.treeSize})`,
      });
    }
    await checkConsistency(this.crypto, digest, latest, cutOff.consistency, 'the cut-off digest');
    await checkDigest(this.crypto, latest, this.trustedPublicKey);
    if (!this.trustedPublicKey && !sameKey(digest.publicKey, latest.publicKey)) {
      fail({
        check: 'untrusted-key',
        detail: 'the latest digest is signed with another key than the cut-off digest',
      });
    }
    const complete = Date.parse(digest.createdAt) >= cutOff.at;
    return {
      asOf: cutOff.asOf,
      cutOffDigest: summary(digest),
      latest: summary(latest),
      streamsWithNext: this.next.length,
      complete,
      provedAsOf: complete ? cutOff.asOf : digest.createdAt,
    };
  }
}

function sameKey(a: string, b: string): boolean {
  try {
    return bytesEqual(ed25519PublicKeyDer(a), ed25519PublicKeyDer(b));
  } catch {
    return false;
  }
}

/** A whole bundle held as text (tests, small bundles); `verify-bundle` streams the file instead. */
export async function verifyBundle(
  crypto: VerifyCrypto,
  text: string,
  trustedPublicKey?: string,
): Promise<OfflineReport> {
  const verifier = new BundleVerifier(crypto, trustedPublicKey);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) await verifier.push(line);
  return verifier.finish();
}
