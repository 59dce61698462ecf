import * as grpc from '@grpc/grpc-js';
import {
  AllStreamPosition,
  Empty,
  MaximumAppendSizeExceeded,
  StreamIdentifier,
  UUID,
  WrongExpectedVersion,
} from '@eventstore/db-client/generated/shared_pb';
import { Status } from '@eventstore/db-client/generated/status_pb';
import {
  ServerFeaturesService,
  type IServerFeaturesServer,
} from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { StreamsService, type IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb';
import {
  AppendReq,
  AppendResp,
  BatchAppendReq,
  BatchAppendResp,
  ReadReq,
  ReadResp,
} from '@eventstore/db-client/generated/streams_pb';

/** One event as the scripted server keeps it: prepare = commit position, like any non-transactional write. */
export interface ScriptedRecord {
  stream: string;
  revision: number;
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  position: bigint;
}

export type AppendFailure = 'before-write' | 'after-write' | 'commit-timeout';

export interface ScriptedEsdbServerOptions {
  /**
   * Advertise Streams.BatchAppend in ServerFeatures and serve it (the default), as every server the ledger
   * supports does: the client then appends through it. False plays a server without it, so that the client
   * falls back to Streams.Append.
   */
  batchAppend?: boolean;
}

/** An event as an append proposes it. */
type ProposedRecord = Pick<ScriptedRecord, 'id' | 'type' | 'contentType' | 'data' | 'customMetadata'>;

/** What the server decided about one append, before either append protocol encodes the answer. */
type AppendOutcome =
  | { kind: 'success'; revision: number; position: bigint | undefined }
  | { kind: 'wrong-expected-version'; expected: ExpectedOption; current: number };

/** A BatchAppend request being received: its options came first, its messages may span several requests. */
interface PendingBatch {
  stream: string;
  expected: ExpectedOption;
  proposed: ProposedRecord[];
  size: number;
}

/** A subscription's server-side filter: stream-name prefixes, or a regular expression on event types. */
type SubscriptionFilter = { on: 'stream'; prefixes: string[] } | { on: 'type'; regex: RegExp } | undefined;

interface LiveSubscription {
  call: grpc.ServerWritableStream<ReadReq, ReadResp>;
  filter: SubscriptionFilter;
  /** Records the filter looked at since the last checkpoint (filtered subscriptions only). */
  considered: number;
  /** Messages left before this subscription is dropped (dropNextSubscriptionAfter). */
  dropAfter: number | undefined;
}

export interface ScriptedCheckpoints {
  /** Records a filtered subscription considers between two checkpoints (the server's default is 32). */
  interval: number;
  /**
   * Send checkpoints with prepare position 0 and only the commit position set, as servers have done for
   * filtered subscriptions (EventStore issue #3989).
   */
  prepareZero: boolean;
  /**
   * Send the checkpoint on going live at (2^64 - 1, 2^64 - 1), outside the log, as servers up to 24.10.4
   * could when nothing had matched the filter yet (KurrentDB #4892).
   */
  outsideLogOnGoingLive: boolean;
}

type ExpectedOption =
  | { kind: 'revision'; revision: number }
  | { kind: 'no_stream' }
  | { kind: 'any' }
  | { kind: 'stream_exists' };

/**
 * A TEST DOUBLE OF THE EVENTSTOREDB gRPC PROTOCOL, not an event store: a @grpc/grpc-js server built from
 * the client's own generated service definitions (Streams.Read, Streams.BatchAppend, Streams.Append),
 * listening on 127.0.0.1, holding streams in memory. It plays the server behaviour the adapter depends on,
 * as EventStoreDB (24.10) does it:
 * - appends through BatchAppend, the bidirectional stream a client uses when ServerFeatures lists it:
 *   requests carry a correlation id, the options (stream, expected revision, deadline) come with the
 *   first, proposed messages may span several, the one marked final completes it; each answer is a
 *   success or a google.rpc.Status packing WrongExpectedVersion or MaximumAppendSizeExceeded;
 * - or, started with `batchAppend: false`, through the unary Append, as a server not listing BatchAppend;
 * - a wrong expected version answered with the current revision or "no stream";
 * - an exact-revision retry of ids already written there answered as success with the position of the
 *   original's last event (or, with `idempotentWithoutPosition`, with none, as a server that cannot read
 *   that event back answers);
 * - $all holding system events (`$`-streams) and foreign JSON events beside the ledger's;
 * - a read of an absent stream answered `stream_not_found`;
 * - positions that are sparse log offsets with prepare = commit;
 * - the maximum append size (MaxAppendSize), refused with its exception trailers.
 * - subscriptions to $all (history strictly after a position, then live; stream-prefix and event-type
 *   filters), checkpoints of filtered ones (optionally with prepare = 0), and drops, also mid-stream.
 * - ServerFeatures, reporting `serverVersion` (or, unset, absent as on servers before 21.10).
 * Lost connections (failNextAppends) end the call with UNAVAILABLE: a BatchAppend call with every append
 * then in flight on it.
 */
export class ScriptedEsdbServer {
  readonly log: ScriptedRecord[] = [];
  private readonly streams = new Map<string, ScriptedRecord[]>();
  private readonly appendFailures: AppendFailure[] = [];
  private readonly live = new Set<LiveSubscription>();
  private nextPosition = 1024n;
  /** The server's MaxAppendSize: an append whose events' data and metadata exceed it is refused whole. */
  maxAppendSizeBytes = 1024 * 1024;
  /**
   * Answer an idempotent retry without a position. A real server includes the original's position, but
   * sends none when it cannot read that event back (its index read fails): the adapter reads it then.
   */
  idempotentWithoutPosition = false;
  /** Appends decided (stored, found idempotent or refused for their expected revision), by protocol. */
  readonly appendsServed = { append: 0, batchAppend: 0 };
  /** How filtered subscriptions are sent checkpoints. */
  readonly checkpoints: ScriptedCheckpoints = {
    interval: 32,
    prepareZero: false,
    outsideLogOnGoingLive: false,
  };
  private nextDropAfter: number | undefined;
  /**
   * The version ServerFeatures reports, or undefined for a server without that service (before 21.10).
   * It lists Streams.Read, Streams.Append and, unless started without it, Streams.BatchAppend.
   */
  serverVersion: string | undefined = '24.10.5';

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    /** Whether BatchAppend is listed and served (ScriptedEsdbServerOptions.batchAppend). */
    readonly batchAppend: boolean,
  ) {}

  static async start(options: ScriptedEsdbServerOptions = {}): Promise<ScriptedEsdbServer> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const scripted = new ScriptedEsdbServer(server, port, options.batchAppend ?? true);
    server.addService(StreamsService, scripted.handlers());
    const features: IServerFeaturesServer = {
      getSupportedMethods: (_call, callback) => scripted.supportedMethods(callback),
    };
    server.addService(ServerFeaturesService, features);
    return scripted;
  }

  get connectionString(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  /** Writes an event outside the ledger's protocol: a system event, or another application's JSON event. */
  writeForeign(stream: string, type: string, json: Record<string, unknown>): ScriptedRecord {
    const events = this.streams.get(stream) ?? [];
    return this.write(stream, events, {
      id: crypto.randomUUID(),
      type,
      contentType: 'application/json',
      data: new Uint8Array(Buffer.from(JSON.stringify(json), 'utf8')),
      customMetadata: new Uint8Array(),
    });
  }

  /**
   * The next appends fail. `before-write` and `after-write` end the call with UNAVAILABLE, as when a
   * connection drops: the first stores nothing, the second stores the events and loses the answer (the
   * outcome the client cannot know). `commit-timeout` stores the events and answers that the write timed
   * out, as the server does when its commit is not acknowledged in time: ABORTED ("Operation timed out")
   * to an Append, a Status packing Timeout to a BatchAppend.
   */
  failNextAppends(...failures: AppendFailure[]): void {
    this.appendFailures.push(...failures);
  }

  async stop(): Promise<void> {
    // A test double: calls still open (a client that stopped reading) are cut rather than waited for.
    this.server.forceShutdown();
  }

  private write(
    stream: string,
    events: ScriptedRecord[],
    proposed: Pick<ScriptedRecord, 'id' | 'type' | 'contentType' | 'data' | 'customMetadata'>,
  ): ScriptedRecord {
    const record: ScriptedRecord = {
      ...proposed,
      stream,
      revision: events.length,
      position: this.nextPosition,
    };
    // Sparse like a real log's byte offsets, so nothing can lean on dense positions.
    this.nextPosition += 128n + BigInt(proposed.data.byteLength);
    events.push(record);
    this.streams.set(stream, events);
    this.log.push(record);
    for (const subscriber of this.live) this.send(subscriber, record);
    return record;
  }

  private supportedMethods(callback: grpc.sendUnaryData<SupportedMethods>): void {
    if (this.serverVersion === undefined) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'no ServerFeatures on this server' });
      return;
    }
    // As the server lists them: lower case, BatchAppend with the feature its Duration deadline is.
    const listed: [name: string, features: string[]][] = [
      ['read', ['position', 'events']],
      ['append', []],
    ];
    if (this.batchAppend) listed.push(['batchappend', ['deadline_duration']]);
    const methods = listed.map(([name, features]) =>
      new SupportedMethod()
        .setServiceName('event_store.client.streams.streams')
        .setMethodName(name)
        .setFeaturesList(features),
    );
    callback(
      null,
      new SupportedMethods().setEventStoreServerVersion(this.serverVersion).setMethodsList(methods),
    );
  }

  private handlers(): IStreamsServer {
    const unimplemented = (_call: unknown, callback: (error: grpc.ServiceError | null) => void) =>
      callback(
        Object.assign(new Error('not scripted'), {
          code: grpc.status.UNIMPLEMENTED,
          details: 'not scripted',
          metadata: new grpc.Metadata(),
        }),
      );
    return {
      read: (call) => this.read(call),
      append: (call, callback) => this.append(call, callback),
      delete: unimplemented,
      tombstone: unimplemented,
      batchAppend: (call) => {
        if (this.batchAppend) return this.batchAppendCall(call);
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not scripted' });
      },
    };
  }

  private append(
    call: grpc.ServerReadableStream<AppendReq, AppendResp>,
    callback: grpc.sendUnaryData<AppendResp>,
  ): void {
    let stream: string | undefined;
    let expected: ExpectedOption | undefined;
    const proposed: ProposedRecord[] = [];
    call.on('data', (request: AppendReq) => {
      const options = request.getOptions();
      if (options) {
        stream = streamNameOf(options.getStreamIdentifier());
        expected = options.hasRevision()
          ? { kind: 'revision', revision: Number(options.getRevision()) }
          : options.hasNoStream()
            ? { kind: 'no_stream' }
            : options.hasStreamExists()
              ? { kind: 'stream_exists' }
              : { kind: 'any' };
        return;
      }
      const message = request.getProposedMessage();
      if (message) proposed.push(proposedOf(message));
    });
    call.on('end', () => {
      if (stream === undefined || expected === undefined) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no options' });
        return;
      }
      const failure = this.appendFailures.shift();
      if (failure === 'before-write') return callback(unavailable());
      const size = proposed.reduce((sum, message) => sum + sizeOf(message), 0);
      if (size > this.maxAppendSizeBytes) return callback(maximumAppendSizeExceeded(this.maxAppendSizeBytes));
      this.appendsServed.append++;
      const answer = appendResponseOf(this.decideAppend(stream, expected, proposed));
      if (failure === 'after-write') return callback(unavailable());
      if (failure === 'commit-timeout') return callback(operationTimedOut());
      callback(null, answer);
    });
  }

  /**
   * One BatchAppend call, as the server's worker runs it: appends keyed by correlation id, their options
   * with the first request, messages gathered (and their size checked) until the final request, each
   * answered on the call with its correlation id and stream. The call stays open for the client's next
   * appends; it ends when the client ends it, or with UNAVAILABLE when failNextAppends drops it.
   */
  private batchAppendCall(call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
    const pending = new Map<string, PendingBatch>();
    let dropped = false;
    const drop = () => {
      dropped = true;
      call.emit('error', unavailable());
    };
    call.on('data', (request: BatchAppendReq) => {
      if (dropped) return;
      const correlationId = request.getCorrelationId();
      const key = uuidOf(correlationId);
      const options = request.getOptions();
      if (options && !pending.has(key)) {
        const identifier = options.getStreamIdentifier();
        if (!identifier) {
          const status = statusOf(
            grpc.status.INVALID_ARGUMENT,
            'BadRequest',
            'event_store.client.BadRequest',
          );
          call.write(new BatchAppendResp().setCorrelationId(correlationId).setError(status));
          return;
        }
        pending.set(key, {
          stream: streamNameOf(identifier),
          expected: expectedOfBatch(options),
          proposed: [],
          size: 0,
        });
      }
      const batch = pending.get(key);
      // Messages of an append already answered (refused as too large) or never opened: ignored.
      if (!batch) return;
      for (const message of request.getProposedMessagesList()) {
        const proposed = proposedOf(message);
        batch.proposed.push(proposed);
        batch.size += sizeOf(proposed);
      }
      if (batch.size > this.maxAppendSizeBytes) {
        pending.delete(key);
        call.write(
          batchResponse(correlationId, batch.stream).setError(
            batchMaximumAppendSizeExceeded(this.maxAppendSizeBytes),
          ),
        );
        return;
      }
      if (!request.getIsFinal()) return;
      pending.delete(key);
      const failure = this.appendFailures.shift();
      if (failure === 'before-write') return drop();
      this.appendsServed.batchAppend++;
      const outcome = this.decideAppend(batch.stream, batch.expected, batch.proposed);
      if (failure === 'after-write') return drop();
      if (failure === 'commit-timeout') {
        const timeout = statusOf(grpc.status.DEADLINE_EXCEEDED, 'Timeout', 'event_store.client.Timeout');
        return call.write(batchResponse(correlationId, batch.stream).setError(timeout));
      }
      call.write(batchResponseOf(correlationId, batch.stream, outcome));
    });
    call.on('end', () => {
      if (!dropped) call.end();
    });
  }

  /** The in-memory append both protocols share: expected revision, idempotent retries, the write. */
  private decideAppend(stream: string, expected: ExpectedOption, proposed: ProposedRecord[]): AppendOutcome {
    const events = this.streams.get(stream) ?? [];
    const current = events.length - 1;
    const exact =
      expected.kind === 'revision' ? expected.revision : expected.kind === 'no_stream' ? -1 : undefined;
    if (exact !== undefined && exact < current) {
      // EventStoreDB's idempotence at an exact revision: the same ids right after it are the same write.
      const already = events.slice(exact + 1, exact + 1 + proposed.length);
      if (
        already.length === proposed.length &&
        already.every((record, index) => record.id === proposed[index].id)
      ) {
        // The server answers with the log position of the original's last event, read back from its index.
        const original = already.at(-1);
        return {
          kind: 'success',
          revision: exact + proposed.length,
          position: this.idempotentWithoutPosition ? undefined : original?.position,
        };
      }
    }
    const matches =
      expected.kind === 'any' || (expected.kind === 'stream_exists' ? current >= 0 : exact === current);
    if (!matches) return { kind: 'wrong-expected-version', expected, current };
    let last: ScriptedRecord | undefined;
    for (const message of proposed) last = this.write(stream, events, message);
    return last === undefined
      ? { kind: 'success', revision: current, position: undefined }
      : { kind: 'success', revision: last.revision, position: last.position };
  }

  /**
   * A subscription to $all: confirmation, the events strictly after the start position, then live events
   * as they are written. A filtered one (stream-name prefixes, or an event-type regex such as the client's
   * excludeSystemEvents) also gets a checkpoint every `checkpoints.interval` records it considered, at the
   * last of them, and one on going live, as the server does.
   */
  private subscribe(call: grpc.ServerWritableStream<ReadReq, ReadResp>, options: ReadReq.Options): void {
    const all = options.getAll();
    if (!all) {
      call.emit('error', {
        code: grpc.status.UNIMPLEMENTED,
        details: 'stream subscriptions are not scripted',
      });
      return;
    }
    const subscriber: LiveSubscription = {
      call,
      filter: filterOf(options.getFilter()),
      considered: 0,
      dropAfter: this.nextDropAfter,
    };
    this.nextDropAfter = undefined;
    const confirmation = new ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(crypto.randomUUID());
    call.write(new ReadResp().setConfirmation(confirmation));
    const after = all.hasPosition() ? BigInt(all.getPosition()?.getCommitPosition() ?? '0') : undefined;
    const history = all.hasEnd()
      ? []
      : this.log.filter((record) => after === undefined || record.position > after);
    this.live.add(subscriber);
    call.on('cancelled', () => this.live.delete(subscriber));
    call.on('close', () => this.live.delete(subscriber));
    for (const record of history) this.send(subscriber, record);
    const last = history.at(-1);
    if (subscriber.filter && last && this.live.has(subscriber)) {
      this.sendCheckpoint(
        subscriber,
        this.checkpoints.outsideLogOnGoingLive ? 2n ** 64n - 1n : last.position,
      );
      subscriber.considered = 0;
    }
  }

  /** A record as one subscriber sees it: the event if it passes the filter, then maybe a checkpoint. */
  private send(subscriber: LiveSubscription, record: ScriptedRecord): void {
    if (matches(record, subscriber.filter)) this.deliver(subscriber, readResponseOf(record));
    if (!subscriber.filter) return;
    subscriber.considered++;
    if (subscriber.considered >= this.checkpoints.interval) {
      subscriber.considered = 0;
      this.sendCheckpoint(subscriber, record.position);
    }
  }

  private sendCheckpoint(subscriber: LiveSubscription, position: bigint): void {
    const checkpoint = new ReadResp.Checkpoint();
    checkpoint.setCommitPosition(position.toString());
    checkpoint.setPreparePosition(
      this.checkpoints.prepareZero && position < 2n ** 63n ? '0' : position.toString(),
    );
    this.deliver(subscriber, new ReadResp().setCheckpoint(checkpoint));
  }

  private deliver(subscriber: LiveSubscription, response: ReadResp): void {
    if (!this.live.has(subscriber)) return;
    if (subscriber.dropAfter !== undefined && subscriber.dropAfter-- <= 0) {
      this.live.delete(subscriber);
      subscriber.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'dropped' });
      return;
    }
    subscriber.call.write(response);
  }

  /** The next subscription is dropped (UNAVAILABLE) after this many events and checkpoints. */
  dropNextSubscriptionAfter(messages: number): void {
    this.nextDropAfter = messages;
  }

  /** Ends every subscription as a server going away would: the client sees UNAVAILABLE. */
  dropSubscriptions(): void {
    for (const subscriber of this.live) {
      subscriber.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'dropped' });
    }
    this.live.clear();
  }

  private read(call: grpc.ServerWritableStream<ReadReq, ReadResp>): void {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'no options' });
      return;
    }
    if (options.hasSubscription()) return this.subscribe(call, options);
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const count = Number(options.getCount());
    let selected: ScriptedRecord[];
    const streamOptions = options.getStream();
    const allOptions = options.getAll();
    if (streamOptions) {
      const stream = streamNameOf(streamOptions.getStreamIdentifier());
      const events = this.streams.get(stream);
      if (!events) {
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(stream, 'utf8')));
        call.write(new ReadResp().setStreamNotFound(notFound));
        call.end();
        return;
      }
      const from = streamOptions.hasRevision()
        ? Number(streamOptions.getRevision())
        : streamOptions.hasEnd()
          ? backwards
            ? events.length - 1
            : events.length
          : 0;
      selected = backwards ? events.slice(0, from + 1).reverse() : events.slice(from);
    } else if (allOptions) {
      if (allOptions.hasPosition()) {
        const position = BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0');
        // Forwards from a position includes it; backwards starts before it.
        selected = backwards
          ? this.log.filter((record) => record.position < position).reverse()
          : this.log.filter((record) => record.position >= position);
      } else if (allOptions.hasEnd()) {
        selected = backwards ? [...this.log].reverse() : [];
      } else {
        selected = backwards ? [] : [...this.log];
      }
    } else {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'no stream option' });
      return;
    }
    for (const record of selected.slice(0, count)) call.write(readResponseOf(record));
    call.end();
  }
}

function filterOf(options: ReadReq.Options.FilterOptions | undefined): SubscriptionFilter {
  const byStream = options?.getStreamIdentifier();
  if (byStream) return { on: 'stream', prefixes: byStream.getPrefixList() };
  const byType = options?.getEventType();
  if (byType) return { on: 'type', regex: new RegExp(byType.getRegex()) };
  return undefined;
}

function matches(record: ScriptedRecord, filter: SubscriptionFilter): boolean {
  if (!filter) return true;
  if (filter.on === 'type') return filter.regex.test(record.type);
  return filter.prefixes.some((prefix) => record.stream.startsWith(prefix));
}

function unavailable(): grpc.ServiceError {
  return Object.assign(new Error('connection lost'), {
    code: grpc.status.UNAVAILABLE,
    details: 'connection lost',
    metadata: new grpc.Metadata(),
  });
}

/** The unary Append's answer to a write whose commit timed out (the events may well be stored). */
function operationTimedOut(): grpc.ServiceError {
  return Object.assign(new Error('Operation timed out'), {
    code: grpc.status.ABORTED,
    details: 'Operation timed out: Commit phase timeout.',
    metadata: new grpc.Metadata(),
  });
}

/** EventStoreDB's refusal of a too-large append: the exception name and the limit travel as trailers. */
function maximumAppendSizeExceeded(maxAppendSize: number): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  return Object.assign(new Error('Maximum Append Size Exceeded'), {
    code: grpc.status.INVALID_ARGUMENT,
    details: `Maximum Append Size of ${maxAppendSize} Exceeded.`,
    metadata,
  });
}

/** BatchAppend's refusal of a too-large append: a Status in the answer, not trailers. */
function batchMaximumAppendSizeExceeded(maxAppendSize: number): Status {
  const detail = new MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize);
  return statusOf(
    grpc.status.INVALID_ARGUMENT,
    'MaximumAppendSizeExceeded',
    'event_store.client.MaximumAppendSizeExceeded',
    detail.serializeBinary(),
  );
}

function appendResponseOf(outcome: AppendOutcome): AppendResp {
  if (outcome.kind === 'wrong-expected-version') {
    const { expected, current } = outcome;
    const wrong = new AppendResp.WrongExpectedVersion();
    if (current >= 0) wrong.setCurrentRevision(String(current));
    else wrong.setCurrentNoStream(new Empty());
    if (expected.kind === 'revision') wrong.setExpectedRevision(String(expected.revision));
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
    else wrong.setExpectedAny(new Empty());
    return new AppendResp().setWrongExpectedVersion(wrong);
  }
  const success = new AppendResp.Success();
  if (outcome.revision >= 0) success.setCurrentRevision(String(outcome.revision));
  else success.setNoStream(new Empty());
  if (outcome.position === undefined) {
    success.setNoPosition(new Empty());
  } else {
    const position = new AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  }
  return new AppendResp().setSuccess(success);
}

/** An answer on a BatchAppend call: it names the append by its correlation id and its stream. */
function batchResponse(correlationId: UUID | undefined, stream: string): BatchAppendResp {
  return new BatchAppendResp()
    .setCorrelationId(correlationId)
    .setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(stream, 'utf8')));
}

/**
 * As the server's worker converts its write's completion: a success with the revision and position, or a
 * Status (ALREADY_EXISTS) packing the shared WrongExpectedVersion, current revision or "no stream".
 */
function batchResponseOf(
  correlationId: UUID | undefined,
  stream: string,
  outcome: AppendOutcome,
): BatchAppendResp {
  const response = batchResponse(correlationId, stream);
  if (outcome.kind === 'wrong-expected-version') {
    const { expected, current } = outcome;
    const wrong = new WrongExpectedVersion();
    if (current >= 0) wrong.setCurrentStreamRevision(String(current));
    else wrong.setCurrentNoStream(new Empty());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(String(expected.revision));
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
    else wrong.setExpectedAny(new Empty());
    return response.setError(
      statusOf(
        grpc.status.ALREADY_EXISTS,
        'WrongExpectedVersion',
        'event_store.client.WrongExpectedVersion',
        wrong.serializeBinary(),
      ),
    );
  }
  const success = new BatchAppendResp.Success();
  if (outcome.revision >= 0) success.setCurrentRevision(String(outcome.revision));
  else success.setNoStream(new Empty());
  if (outcome.position === undefined) {
    success.setNoPosition(new Empty());
  } else {
    success.setPosition(
      new AllStreamPosition()
        .setCommitPosition(outcome.position.toString())
        .setPreparePosition(outcome.position.toString()),
    );
  }
  return response.setSuccess(success);
}

function expectedOfBatch(options: BatchAppendReq.Options): ExpectedOption {
  if (options.hasStreamPosition()) return { kind: 'revision', revision: Number(options.getStreamPosition()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

/**
 * A google.rpc.Status whose details are an Any packing `detail` as `typeName`, as the server sends in a
 * BatchAppend answer. Built from its wire encoding, because the Any message type is google-protobuf's,
 * which the client uses but this project does not depend on.
 */
function statusOf(
  code: grpc.status,
  message: string,
  typeName: string,
  detail: Uint8Array = new Uint8Array(),
): Status {
  const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
  const any = Buffer.concat([
    lengthDelimited(1, utf8(`type.googleapis.com/${typeName}`)),
    lengthDelimited(2, detail),
  ]);
  return Status.deserializeBinary(
    new Uint8Array(
      Buffer.concat([
        varint((1 << 3) | 0),
        varint(code),
        lengthDelimited(2, utf8(message)),
        lengthDelimited(3, any),
      ]),
    ),
  );
}

/** A protobuf length-delimited field (wire type 2): its key, the length, the bytes. */
function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.byteLength), Buffer.from(bytes)]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A proposed message of either append protocol: the same fields in both. */
interface ProposedMessage {
  getId(): UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

function proposedOf(message: ProposedMessage): ProposedRecord {
  const metadata = message.getMetadataMap();
  return {
    id: uuidOf(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

/** An event's size against MaxAppendSize: its data and metadata (the server adds a little per event). */
function sizeOf(proposed: ProposedRecord): number {
  return proposed.data.byteLength + proposed.customMetadata.byteLength;
}

function readResponseOf(record: ScriptedRecord): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(new UUID().setString(record.id));
  recorded.setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(record.stream, 'utf8')));
  recorded.setStreamRevision(String(record.revision));
  recorded.setCommitPosition(record.position.toString());
  recorded.setPreparePosition(record.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('content-type', record.contentType);
  metadata.set('created', String(BigInt(Date.now()) * 10_000n));
  recorded.setCustomMetadata(record.customMetadata);
  recorded.setData(record.data);
  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  event.setCommitPosition(record.position.toString());
  return new ReadResp().setEvent(event);
}

function streamNameOf(identifier: StreamIdentifier | undefined): string {
  return identifier ? Buffer.from(identifier.getStreamName_asU8()).toString('utf8') : '';
}

function uuidOf(uuid: UUID | undefined): string {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured();
  if (!structured) return '';
  const hex = (bits: string) => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0');
  const digits = hex(structured.getMostSignificantBits()) + hex(structured.getLeastSignificantBits());
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}
