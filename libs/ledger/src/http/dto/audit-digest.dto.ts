import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

const TREE_SIZE = /^(?:0|[1-9]\d{0,14})$/;
const TREE_SIZE_MESSAGE = 'must be a non-negative integer';

export class ProofQueryDto {
  @ApiPropertyOptional({ description: 'Tree size of a published digest (default: the latest digest)' })
  @IsOptional()
  @Matches(TREE_SIZE, { message: `treeSize ${TREE_SIZE_MESSAGE}` })
  treeSize?: string;
}

export class ConsistencyQueryDto {
  @ApiProperty({ description: 'Tree size of the older published digest' })
  @Matches(TREE_SIZE, { message: `from ${TREE_SIZE_MESSAGE}` })
  from!: string;

  @ApiProperty({ description: 'Tree size of the newer published digest (at least from)' })
  @Matches(TREE_SIZE, { message: `to ${TREE_SIZE_MESSAGE}` })
  to!: string;
}

export class DigestListQueryDto {
  @ApiPropertyOptional({ description: 'Smallest tree size to list (inclusive), default 0' })
  @IsOptional()
  @Matches(TREE_SIZE, { message: `fromTreeSize ${TREE_SIZE_MESSAGE}` })
  fromTreeSize?: string;

  @ApiPropertyOptional({ description: 'At most this many digests, 1 to 500, default 100' })
  @IsOptional()
  @Matches(/^(?:[1-9]\d?|[1-4]\d\d|500)$/, { message: 'limit must be an integer from 1 to 500' })
  limit?: string;
}
