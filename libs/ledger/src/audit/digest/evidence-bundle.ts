import type { SignedDigest } from '../../application/ports/digest-store.port';
import type { StoredEvent } from '../../application/ports/event-store.port';
import {
  BundleChains,
  checkDigest,
  checkEventBytes,
  checkInclusion,
  OfflineVerificationError,
  parseDigest,
  type OfflineReport,
} from './offline-verifier';

/** Line format of `ledger export` (docs/hashing.md, "Evidence bundle"). */
export const BUNDLE_KIND = 'ledger-evidence-bundle';
export const BUNDLE_VERSION = 1;

export type BundleSelection =
  { issueId: string } | { customerId: string } | { recordedFrom: string; recordedTo: string };

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

/**
 * Every event line: its canonical bytes, hash, leaf and inclusion in the header's digest; then the chains
 * between the bundle's events of each stream, the event count, and last the digest's signature.
 */
export function verifyBundle(text: string, trustedPublicKey?: string): OfflineReport {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let events = 0;
  let digestSummary: OfflineReport['digest'] = null;
  try {
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    } catch {
      throw new OfflineVerificationError({ check: 'format', detail: 'line 1 is not JSON', line: 1 });
    }
    if (header?.kind !== BUNDLE_KIND || header.version !== BUNDLE_VERSION) {
      throw new OfflineVerificationError({
        check: 'format',
        detail: `line 1 is not a ${BUNDLE_KIND} version ${BUNDLE_VERSION} header`,
        line: 1,
      });
    }
    const digest = parseDigest(header.digest);
    digestSummary = { treeSize: digest.treeSize, rootHash: digest.rootHash, createdAt: digest.createdAt };
    const chains = new BundleChains();
    const leaves = new Set<number>();
    for (let i = 1; i < lines.length; i++) {
      const lineNo = i + 1;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(lines[i]) as Record<string, unknown>;
      } catch {
        throw new OfflineVerificationError({
          check: 'format',
          detail: `line ${lineNo} is not JSON`,
          line: lineNo,
        });
      }
      if (line?.kind !== 'event') {
        throw new OfflineVerificationError({
          check: 'format',
          detail: `line ${lineNo} is not an event line`,
          line: lineNo,
        });
      }
      try {
        const { event, hash } = checkEventBytes(line.event);
        const where = {
          line: lineNo,
          stream: event.stream,
          revision: event.revision,
          eventId: event.metadata.eventId,
        };
        checkInclusion(hash, line.leafIndex, line.proof, digest, where);
        if (leaves.has(line.leafIndex as number)) {
          throw new OfflineVerificationError({
            check: 'duplicate-event',
            detail: `leaf ${String(line.leafIndex)} appears twice`,
            ...where,
          });
        }
        leaves.add(line.leafIndex as number);
        chains.add(event, lineNo);
      } catch (error) {
        if (error instanceof OfflineVerificationError && error.failure.line === undefined) {
          throw new OfflineVerificationError({ ...error.failure, line: lineNo });
        }
        throw error;
      }
      events++;
    }
    const selection = header.selection as Record<string, unknown> | undefined;
    chains.check(selection !== undefined && ('issueId' in selection || 'customerId' in selection));
    if (header.events !== events) {
      throw new OfflineVerificationError({
        check: 'truncated',
        detail: `the header announces ${String(header.events)} events, the bundle holds ${events}`,
      });
    }
    checkDigest(digest, trustedPublicKey);
    return {
      ok: true,
      failure: null,
      events,
      digest: digestSummary,
      keySource: trustedPublicKey ? 'trusted' : 'embedded',
    };
  } catch (error) {
    if (error instanceof OfflineVerificationError) {
      return { ok: false, failure: error.failure, events, digest: digestSummary, keySource: null };
    }
    throw error;
  }
}
