import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import {
  chargeDecider,
  chargeStream,
  customerDecider,
  customerStream,
  issueDecider,
  issueStream,
  SCHEMA_VERSIONS,
  type ChargeCommand,
  type CustomerCommand,
  type IssueCommand,
} from '../../domain';
import { NotFoundError } from '../../domain/shared/domain-error';
import { EVENT_STORE, type EventStore } from '../ports/event-store.port';
import type { CommandMeta, CommandOutcome } from './command-meta';
import { StreamCommandRunner } from './stream-command-runner';

type WithoutContext<T> = T extends unknown ? Omit<T, 'context'> : never;

export type ChargeCommandInput = WithoutContext<ChargeCommand>;
export type IssueCommandInput = WithoutContext<IssueCommand>;
export type CustomerCommandInput = WithoutContext<CustomerCommand>;

const schemaVersionOf = (type: string): number => (SCHEMA_VERSIONS as Record<string, number>)[type] ?? 1;

/** Nest command carriers: the domain command without its context, plus the command's metadata. */
export class ExecuteChargeCommand {
  constructor(
    readonly command: ChargeCommandInput,
    readonly meta: CommandMeta,
  ) {}
}

export class ExecuteIssueCommand {
  constructor(
    readonly command: IssueCommandInput,
    readonly meta: CommandMeta,
  ) {}
}

export class ExecuteCustomerCommand {
  constructor(
    readonly command: CustomerCommandInput,
    readonly meta: CommandMeta,
  ) {}
}

@CommandHandler(ExecuteChargeCommand)
export class ChargeCommandHandler implements ICommandHandler<ExecuteChargeCommand, CommandOutcome> {
  constructor(private readonly runner: StreamCommandRunner) {}

  execute({ command, meta }: ExecuteChargeCommand): Promise<CommandOutcome> {
    return this.runner.run({
      stream: chargeStream(command.chargeId),
      decider: chargeDecider,
      build: (context) => ({ ...command, context }) as ChargeCommand,
      meta,
      schemaVersionOf,
    });
  }
}

@CommandHandler(ExecuteIssueCommand)
export class IssueCommandHandler implements ICommandHandler<ExecuteIssueCommand, CommandOutcome> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
  ) {}

  async execute({ command, meta }: ExecuteIssueCommand): Promise<CommandOutcome> {
    // Linking is a cross-aggregate reference: the issue decider cannot see charges, so it is checked here.
    const linked =
      command.type === 'OpenIssue'
        ? (command.chargeIds ?? [])
        : command.type === 'LinkCharge'
          ? [command.chargeId]
          : [];
    for (const chargeId of linked) await this.assertChargeExists(chargeId);
    return this.runner.run({
      stream: issueStream(command.issueId),
      decider: issueDecider,
      build: (context) => ({ ...command, context }) as IssueCommand,
      meta,
      extraBody: command.type === 'OpenIssue' ? { issueId: command.issueId } : undefined,
      schemaVersionOf,
    });
  }

  private async assertChargeExists(chargeId: string): Promise<void> {
    const head = await this.eventStore.readStream(chargeStream(chargeId), {
      direction: 'backwards',
      maxCount: 1,
    });
    if (head.length === 0) {
      throw new NotFoundError('charge-not-found', `Charge ${chargeId} does not exist`, { chargeId });
    }
  }
}

@CommandHandler(ExecuteCustomerCommand)
export class CustomerCommandHandler implements ICommandHandler<ExecuteCustomerCommand, CommandOutcome> {
  constructor(private readonly runner: StreamCommandRunner) {}

  execute({ command, meta }: ExecuteCustomerCommand): Promise<CommandOutcome> {
    return this.runner.run({
      stream: customerStream(command.customerId),
      decider: customerDecider,
      build: (context) => ({ ...command, context }) as CustomerCommand,
      meta,
      schemaVersionOf,
    });
  }
}

export const COMMAND_HANDLERS = [ChargeCommandHandler, IssueCommandHandler, CustomerCommandHandler];
