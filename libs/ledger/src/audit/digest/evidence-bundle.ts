import {
  BUNDLE_KIND,
  BUNDLE_VERSION,
  type BundleCompleteness,
  type BundleSelection,
} from '@payment-issue-ledger/verify';
import type { SignedDigest } from '../../application/ports/digest-store.port';
import type { StoredEvent } from '../../application/ports/event-store.port';

/**
 * Writing evidence bundles (docs/hashing.md §10). The format's constants and its verifier are the
 * verification package's (BundleVerifier); only the lines are built here.
 */
export { BUNDLE_KIND, BUNDLE_VERSION };
export type { BundleCompleteness, BundleCutOff, BundleSelection } from '@payment-issue-ledger/verify';

export interface BundleHeader {
  kind: typeof BUNDLE_KIND;
  version: typeof BUNDLE_VERSION;
  createdAt: string;
  selection: BundleSelection;
  /** Streams the selection covers, sorted. */
  streams: string[];
  /** Event lines that follow. */
  events: number;
  /** Every event line's proof is against it; for --as-of, the first digest signed at or after the cut-off. */
  digest: SignedDigest;
  /** `sha256:` fingerprint of the digest's key, for people reading the header; the verifier checks it. */
  publicKeyFingerprint?: string;
  /** --as-of bundles only. */
  completeness?: BundleCompleteness;
}

export interface BundleEventLine {
  kind: 'event' | 'next';
  leafIndex: number;
  proof: string[];
  event: Omit<StoredEvent, 'position'> & { position: string };
}

export function bundleHeaderLine(header: Omit<BundleHeader, 'kind' | 'version'>): string {
  return JSON.stringify({ kind: BUNDLE_KIND, version: BUNDLE_VERSION, ...header });
}

/**
 * An event with its inclusion proof: `event` lines against the header's digest; `next` lines (as-of
 * bundles) hold a stream's first event after the cut-off, against `completeness.latest`.
 */
export function bundleEventLine(
  event: StoredEvent,
  leafIndex: number,
  proof: readonly Buffer[],
  kind: BundleEventLine['kind'] = 'event',
): string {
  const line: BundleEventLine = {
    kind,
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
