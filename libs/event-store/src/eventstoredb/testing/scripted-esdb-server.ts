import * as grpc from '@grpc/grpc-js';
import { Empty, StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';
import {
  ServerFeaturesService,
  type IServerFeaturesServer,
} from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { StreamsService, type IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb';
import { AppendReq, AppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';

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

export type AppendFailure = 'before-write' | 'after-write';

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
 * the client's own generated service definitions (Streams.Read and Streams.Append), listening on
 * 127.0.0.1, holding streams in memory. It plays the server behaviour the adapter depends on, as
 * EventStoreDB documents it:
 * - a wrong expected version answered in the Append response (current revision or "no stream");
 * - an exact-revision retry of ids already written there answered as success without a position;
 * - $all holding system events (`$`-streams) and foreign JSON events beside the ledger's;
 * - a read of an absent stream answered `stream_not_found`;
 * - positions that are sparse log offsets with prepare = commit;
 * - the maximum append size (MaxAppendSize), refused with its exception trailers.
 * - subscriptions to $all (history strictly after a position, then live; stream-prefix and event-type
 *   filters), checkpoints of filtered ones (optionally with prepare = 0), and drops, also mid-stream.
 * - ServerFeatures, reporting `serverVersion` (or, unset, absent as on servers before 21.10).
 * Streams.BatchAppend is left unimplemented and unlisted, so the client uses Streams.Append.
 */
export class ScriptedEsdbServer {
  readonly log: ScriptedRecord[] = [];
  private readonly streams = new Map<string, ScriptedRecord[]>();
  private readonly appendFailures: AppendFailure[] = [];
  private readonly live = new Set<LiveSubscription>();
  private nextPosition = 1024n;
  /** The server's MaxAppendSize: an append whose events' data and metadata exceed it is refused whole. */
  maxAppendSizeBytes = 1024 * 1024;
  /** How filtered subscriptions are sent checkpoints. */
  readonly checkpoints: ScriptedCheckpoints = {
    interval: 32,
    prepareZero: false,
    outsideLogOnGoingLive: false,
  };
  private nextDropAfter: number | undefined;
  /**
   * The version ServerFeatures reports, or undefined for a server without that service (before 21.10).
   * It lists Streams.Read and Streams.Append only: a real server also lists BatchAppend, which the client
   * would then use for appends, and which this double does not play.
   */
  serverVersion: string | undefined = '24.10.5';

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<ScriptedEsdbServer> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const scripted = new ScriptedEsdbServer(server, port);
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
   * The next appends fail with UNAVAILABLE, as when a connection drops: `before-write` stores nothing,
   * `after-write` stores the events and loses the answer (the outcome the client cannot know).
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
    const methods = ['read', 'append'].map((name) =>
      new SupportedMethod().setServiceName('event_store.client.streams.Streams').setMethodName(name),
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
    const proposed: Pick<ScriptedRecord, 'id' | 'type' | 'contentType' | 'data' | 'customMetadata'>[] = [];
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
      if (!message) return;
      const metadata = message.getMetadataMap();
      proposed.push({
        id: uuidOf(message.getId()),
        type: metadata.get('type') ?? '',
        contentType: metadata.get('content-type') ?? 'application/octet-stream',
        data: message.getData_asU8(),
        customMetadata: message.getCustomMetadata_asU8(),
      });
    });
    call.on('end', () => {
      if (stream === undefined || expected === undefined) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no options' });
        return;
      }
      const failure = this.appendFailures.shift();
      if (failure === 'before-write') return callback(unavailable());
      const size = proposed.reduce(
        (sum, message) => sum + message.data.byteLength + message.customMetadata.byteLength,
        0,
      );
      if (size > this.maxAppendSizeBytes) return callback(maximumAppendSizeExceeded(this.maxAppendSizeBytes));
      const answer = this.decideAppend(stream, expected, proposed);
      callback(failure === 'after-write' ? unavailable() : null, answer);
    });
  }

  private decideAppend(
    stream: string,
    expected: ExpectedOption,
    proposed: Pick<ScriptedRecord, 'id' | 'type' | 'contentType' | 'data' | 'customMetadata'>[],
  ): AppendResp {
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
        const success = new AppendResp.Success();
        success.setCurrentRevision(String(exact + proposed.length));
        success.setNoPosition(new Empty());
        return new AppendResp().setSuccess(success);
      }
    }
    const matches =
      expected.kind === 'any' || (expected.kind === 'stream_exists' ? current >= 0 : exact === current);
    if (!matches) return wrongExpectedVersion(expected, current);
    let last: ScriptedRecord | undefined;
    for (const message of proposed) last = this.write(stream, events, message);
    const success = new AppendResp.Success();
    if (last === undefined) {
      success.setNoStream(new Empty());
      success.setNoPosition(new Empty());
    } else {
      success.setCurrentRevision(String(last.revision));
      const position = new AppendResp.Position();
      position.setCommitPosition(last.position.toString());
      position.setPreparePosition(last.position.toString());
      success.setPosition(position);
    }
    return new AppendResp().setSuccess(success);
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

function wrongExpectedVersion(expected: ExpectedOption, current: number): AppendResp {
  const wrong = new AppendResp.WrongExpectedVersion();
  if (current >= 0) wrong.setCurrentRevision(String(current));
  else wrong.setCurrentNoStream(new Empty());
  if (expected.kind === 'revision') wrong.setExpectedRevision(String(expected.revision));
  else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
  else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
  else wrong.setExpectedAny(new Empty());
  return new AppendResp().setWrongExpectedVersion(wrong);
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
