import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { MissingMerkleNodeError, type DigestStore } from '../application/ports/digest-store.port';
import type { DigestPublisher } from '../audit/digest/digest-publisher';
import {
  EventNotInDigestError,
  LedgerProofs,
  ProofSubjectNotFoundError,
} from '../audit/digest/ledger-proofs';
import { withKeyFingerprint } from '../audit/digest/verification';
import { Roles } from './auth/roles.decorator';
import { ConsistencyQueryDto, DigestListQueryDto, ProofQueryDto } from './dto/audit-digest.dto';
import { ID_MESSAGE, ID_PATTERN } from './dto/common.dto';
import { NoQueryDto } from './dto/query.dto';
import { ProblemError } from './problem';

/** What the composition root gives the digest routes; absent where no tree is kept (answers 503). */
export interface LedgerDigests {
  store: DigestStore;
  publisher: DigestPublisher;
}

export const LEDGER_DIGESTS = Symbol('LedgerDigests');

function badParam(field: string, message: string): ProblemError {
  return ProblemError.of('validation-failed', `${field} ${message}`, { errors: [{ field, message }] });
}

/** Proof failures as problem documents; anything else is a fault of the ledger. */
function asProblem(error: unknown, context: Record<string, unknown>): unknown {
  if (error instanceof ProofSubjectNotFoundError) {
    return ProblemError.of(
      error.subject === 'event' ? 'event-not-found' : 'digest-not-found',
      error.message,
      context,
    );
  }
  if (error instanceof EventNotInDigestError) {
    return ProblemError.of('event-not-in-digest', error.message, {
      ...context,
      leafIndex: error.leafIndex,
      treeSize: error.treeSize,
    });
  }
  if (error instanceof MissingMerkleNodeError) {
    // A digest larger than the stored tree: the tree was truncated or is being rebuilt.
    return ProblemError.of(
      'service-unavailable',
      `the Merkle tree does not reach this digest yet: ${error.message}`,
      context,
    );
  }
  return error;
}

/** Digest, proof and consistency routes hold only hashes, hence analyst and agent too (API.md). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditDigestController {
  private readonly proofs: LedgerProofs | null;

  constructor(@Inject(LEDGER_DIGESTS) private readonly digests: LedgerDigests | null) {
    this.proofs = digests ? new LedgerProofs(digests.store) : null;
  }

  private available(): { digests: LedgerDigests; proofs: LedgerProofs } {
    if (!this.digests || !this.proofs) {
      throw ProblemError.of('service-unavailable', 'this ledger keeps no Merkle tree');
    }
    return { digests: this.digests, proofs: this.proofs };
  }

  /** The latest signed digest: treeSize, rootHash, createdAt, signature, publicKey, algorithm. */
  @Get('digest')
  @Roles('auditor', 'analyst', 'agent')
  async latest(@Query() _query: NoQueryDto) {
    const digest = await this.available().digests.store.latestDigest();
    if (!digest) {
      throw ProblemError.of('digest-not-found', 'no digest has been published yet', { treeSize: null });
    }
    return withKeyFingerprint(digest);
  }

  /** Published digests by tree size, to pick the pair of a consistency proof. */
  @Get('digests')
  @Roles('auditor', 'analyst', 'agent')
  async list(@Query() query: DigestListQueryDto) {
    const limit = Number(query.limit ?? 100);
    const items = await this.available().digests.store.listDigests({
      fromTreeSize: Number(query.fromTreeSize ?? 0),
      limit,
    });
    return {
      items: await Promise.all(items.map(withKeyFingerprint)),
      nextFromTreeSize: items.length === limit ? items[items.length - 1].treeSize + 1 : null,
    };
  }

  /** Brings the tree up to the last committed event and signs it (or answers the digest of that size). */
  @Post('digests')
  @Roles('auditor')
  @HttpCode(201)
  async publish(@Query() _query: NoQueryDto) {
    return withKeyFingerprint(await this.available().digests.publisher.publish());
  }

  @Get('events/:eventId/proof')
  @Roles('auditor', 'analyst', 'agent')
  async proof(@Param('eventId') eventId: string, @Query() query: ProofQueryDto) {
    if (!ID_PATTERN.test(eventId)) throw badParam('eventId', ID_MESSAGE);
    const treeSize = query.treeSize === undefined ? undefined : Number(query.treeSize);
    try {
      const answer = await this.available().proofs.inclusion(eventId, treeSize);
      return { ...answer, digest: await withKeyFingerprint(answer.digest) };
    } catch (error) {
      throw asProblem(error, { eventId, treeSize: treeSize ?? null });
    }
  }

  @Get('consistency')
  @Roles('auditor', 'analyst', 'agent')
  async consistency(@Query() query: ConsistencyQueryDto) {
    const from = Number(query.from);
    const to = Number(query.to);
    if (from > to) throw badParam('from', 'must not exceed to');
    try {
      const answer = await this.available().proofs.consistency(from, to);
      return {
        ...answer,
        from: await withKeyFingerprint(answer.from),
        to: await withKeyFingerprint(answer.to),
      };
    } catch (error) {
      throw asProblem(error, { from, to });
    }
  }
}
