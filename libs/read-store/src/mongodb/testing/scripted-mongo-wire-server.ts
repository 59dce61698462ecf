import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { deserialize, serialize, type Document } from 'bson';

/**
 * A test double of the MongoDB wire protocol, not a database: it answers the connection handshake and
 * `hello` / `isMaster` (OP_MSG and the legacy OP_QUERY) with a scripted answer, `{ ok: 1 }` to any other
 * command, and stores nothing. It lets the start-up probe meet a real driver on a loopback socket where no
 * MongoDB server can run.
 */

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const HEADER_BYTES = 16;

export interface ScriptedMongoWireServerOptions {
  /** The replica set this server claims to belong to; none (a standalone) by default. */
  setName?: string;
  /**
   * Answer every authentication command (`saslStart`, `authenticate`) with the server's "Authentication
   * failed." error (code 18), as a server does for a wrong password. Otherwise they get `{ ok: 1 }`.
   */
  refuseAuthentication?: boolean;
}

export interface ScriptedMongoWireServer {
  /** `127.0.0.1:<port>` */
  address: string;
  /** Command names received, in order (`hello`, `isMaster`, `endSessions`...). */
  commands: string[];
  close(): Promise<void>;
}

export async function startScriptedMongoWireServer(
  options: ScriptedMongoWireServerOptions = {},
): Promise<ScriptedMongoWireServer> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  let connectionId = 0;
  let address = '';

  const helloAnswer = (): Document => ({
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ...(options.setName === undefined
      ? {}
      : { setName: options.setName, hosts: [address], primary: address, me: address, setVersion: 1 }),
    ok: 1,
  });

  const answerTo = (command: Document): Document => {
    const name = Object.keys(command)[0] ?? '';
    commands.push(name);
    if (['hello', 'ismaster', 'isMaster'].includes(name)) return helloAnswer();
    if (options.refuseAuthentication && ['saslStart', 'authenticate'].includes(name)) {
      return { ok: 0, errmsg: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' };
    }
    return { ok: 1 };
  };

  const server: Server = createServer((socket) => {
    connectionId += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        const reply = replyTo(message, answerTo);
        if (reply === null) {
          socket.destroy();
          return;
        }
        socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    address,
    commands,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The reply to one whole message, or null for an opcode this double does not speak. */
function replyTo(message: Buffer, answerTo: (command: Document) => Document): Buffer | null {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) {
    // flagBits, then section kind 0: the command document (kind 1 sequences are not needed here).
    const kind = message.readUInt8(HEADER_BYTES + 4);
    if (kind !== 0) return null;
    const command = deserialize(message.subarray(HEADER_BYTES + 5), {
      allowObjectSmallerThanBufferSize: true,
    });
    const body = serialize(answerTo(command));
    const flags = Buffer.alloc(5); // flagBits 0, section kind 0
    return withHeader(Buffer.concat([flags, body]), requestId, OP_MSG);
  }
  if (opCode === OP_QUERY) {
    // flags, full collection name (a C string), numberToSkip, numberToReturn, then the query document.
    const nameEnd = message.indexOf(0, HEADER_BYTES + 4);
    const command = deserialize(message.subarray(nameEnd + 1 + 8), {
      allowObjectSmallerThanBufferSize: true,
    });
    const body = serialize(answerTo(command));
    const prefix = Buffer.alloc(20); // responseFlags, cursorID (8 bytes), startingFrom: all 0
    prefix.writeInt32LE(1, 16); // numberReturned
    return withHeader(Buffer.concat([prefix, body]), requestId, OP_REPLY);
  }
  return null;
}

function withHeader(body: Buffer, responseTo: number, opCode: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeInt32LE(HEADER_BYTES + body.length, 0);
  header.writeInt32LE(responseTo + 1, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, body]);
}
