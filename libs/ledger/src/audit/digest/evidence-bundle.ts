import type { SignedDigest } from '../../application/ports/digest-store.port';
import type { StoredEvent } from '../../application/ports/event-store.port';
import {
  BundleChains,
  checkDigest,
  checkEventBytes,
  checkInclusion,
  OfflineVerificationError,
  parseDigest,
  type OfflineFailure,
  type OfflineReport,
} from './offline-verifier';

/** Line format of `ledger export` (docs/hashing.md, "Evidence bundle"). */
export const BUNDLE_KIND = 'ledger-evidence-bundle';
export const BUNDLE_VERSION = 1;

/** A stream selection's time cut-off, as `ledger export --as-of | --occurred-at` gave it (ISO-8601). */
export type BundleCutOff = { asOf?: string; occurredAt?: string };

export type BundleSelection =
  | ({ issueId: string } & BundleCutOff)
  | ({ customerId: string } & BundleCutOff)
  | { recordedFrom: string; recordedTo: string };

export interface BundleHeader {
  kind: typeof BUNDLE_KIND;
  version: typeof BUNDLE_VERSION;
  createdAt: string;
  selection: BundleSelection;
  /** Streams the selection covers, sorted. */
  streams: string[];
  /** Event lines that follow. */
  events: number;
  digest: SignedDigest;
}

export interface BundleEventLine {
  kind: 'event';
  leafIndex: number;
  proof: string[];
  event: Omit<StoredEvent, 'position'> & { position: string };
}

export function bundleHeaderLine(header: Omit<BundleHeader, 'kind' | 'version'>): string {
  return JSON.stringify({ kind: BUNDLE_KIND, version: BUNDLE_VERSION, ...header });
}

export function bundleEventLine(event: StoredEvent, leafIndex: number, proof: readonly Buffer[]): string {
  const line: BundleEventLine = {
    kind: 'event',
    leafIndex,
    proof: proof.map((hash) => hash.toString('hex')),
    event: {
      stream: event.stream,
      revision: event.revision,
      position: event.position.toString(),
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: event.data,
      metadata: event.metadata,
      canonical: event.canonical,
    },
  };
  return JSON.stringify(line);
}

const fault = (failure: OfflineFailure): OfflineVerificationError => new OfflineVerificationError(failure);

/**
 * Checks a bundle line by line, so a large bundle is streamed: every event line's canonical bytes, hash,
 * leaf and inclusion in the header's digest as it arrives; at `finish`, the chains between the bundle's
 * events of each stream, the event count, and last the digest's signature.
 */
export class BundleVerifier {
  private lineNo = 0;
  private events = 0;
  private header: Record<string, unknown> | undefined;
  private digest: SignedDigest | undefined;
  private failure: OfflineFailure | null = null;
  private readonly chains = new BundleChains();
  private readonly leaves = new Set<number>();

  constructor(private readonly trustedPublicKey?: string) {}

  /** One line without its newline; a failure is kept and later lines are ignored. */
  push(text: string): void {
    if (this.failure) return;
    this.lineNo++;
    try {
      if (this.lineNo === 1) this.readHeader(text);
      else this.readEvent(text);
    } catch (error) {
      if (!(error instanceof OfflineVerificationError)) throw error;
      this.failure = { ...error.failure, line: error.failure.line ?? this.lineNo };
    }
  }

  finish(): OfflineReport {
    const digest = this.digest
      ? { treeSize: this.digest.treeSize, rootHash: this.digest.rootHash, createdAt: this.digest.createdAt }
      : null;
    const failed = (failure: OfflineFailure): OfflineReport => ({
      ok: false,
      failure,
      events: this.events,
      digest,
      keySource: null,
    });
    if (this.failure) return failed(this.failure);
    if (!this.header || !this.digest)
      return failed({ check: 'format', detail: 'the bundle is empty', line: 1 });
    try {
      const selection = this.header.selection as Record<string, unknown> | undefined;
      this.chains.check(selection !== undefined && ('issueId' in selection || 'customerId' in selection));
      if (this.header.events !== this.events) {
        throw fault({
          check: 'truncated',
          detail: `the header announces ${String(this.header.events)} events, the bundle holds ${this.events}`,
        });
      }
      checkDigest(this.digest, this.trustedPublicKey);
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
    };
  }

  private parse(text: string, what: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw fault({ check: 'format', detail: `line ${this.lineNo} is not JSON` });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw fault({ check: 'format', detail: `line ${this.lineNo} is not ${what}` });
    }
    return value as Record<string, unknown>;
  }

  private readHeader(text: string): void {
    const header = this.parse(text, 'a bundle header');
    if (header.kind !== BUNDLE_KIND || header.version !== BUNDLE_VERSION) {
      throw fault({
        check: 'format',
        detail: `line 1 is not a ${BUNDLE_KIND} version ${BUNDLE_VERSION} header`,
      });
    }
    this.digest = parseDigest(header.digest);
    this.header = header;
  }

  private readEvent(text: string): void {
    const line = this.parse(text, 'an event line');
    if (line.kind !== 'event') {
      throw fault({ check: 'format', detail: `line ${this.lineNo} is not an event line` });
    }
    const { event, hash } = checkEventBytes(line.event);
    const where = {
      line: this.lineNo,
      stream: event.stream,
      revision: event.revision,
      eventId: event.metadata.eventId,
    };
    checkInclusion(hash, line.leafIndex, line.proof, this.digest!, where);
    if (this.leaves.has(line.leafIndex as number)) {
      throw fault({
        check: 'duplicate-event',
        detail: `leaf ${String(line.leafIndex)} appears twice`,
        ...where,
      });
    }
    this.leaves.add(line.leafIndex as number);
    this.chains.add(event, this.lineNo);
    this.events++;
  }
}

/** A whole bundle held as text (tests, small bundles); `ledger verify-bundle` streams the file instead. */
export function verifyBundle(text: string, trustedPublicKey?: string): OfflineReport {
  const verifier = new BundleVerifier(trustedPublicKey);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) verifier.push(line);
  return verifier.finish();
}
