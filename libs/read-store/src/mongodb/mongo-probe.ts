import { MongoClient, MongoNetworkError, MongoServerSelectionError, type Document } from 'mongodb';

/**
 * The start-up probe of a MongoDB server (docs/storage.md, "MongoDB"): reachable, and a replica set member,
 * since every adapter commits in transactions and a standalone server refuses them. It fails in seconds
 * rather than after the driver's default 30 s server selection, and its messages name MongoDB and the
 * hosts, never the user name or password of the connection string.
 */

/** The probe's server selection: well inside the 10 s a failed start is allowed to take. */
export const PROBE_SERVER_SELECTION_TIMEOUT_MS = 5_000;
/** The whole probe, selection and the `hello` round trip included. */
const PROBE_DEADLINE_MS = 9_000;

export class MongoStartupError extends Error {
  override readonly name = 'MongoStartupError';
}

export interface MongoProbeResult {
  /** The replica set's name, from the server's `hello` answer. */
  setName: string;
  /** The hosts of the connection string, without credentials. */
  hosts: string;
}

export interface MongoProbeOptions {
  serverSelectionTimeoutMS?: number;
}

/** The hosts the client was given, as `host:port` (or the SRV name), never the credentials. */
export function describeHosts(client: MongoClient): string {
  const { srvHost, hosts } = client.options;
  return srvHost ?? hosts.map((host) => host.toString()).join(',');
}

/** Removes the connection string's user name and password from a message, raw or percent-decoded. */
export function redactCredentials(message: string, uri: string): string {
  const userInfo = /^mongodb(?:\+srv)?:\/\/([^/?#]*)@/i.exec(uri)?.[1];
  if (userInfo === undefined) return message;
  const secrets = new Set<string>();
  for (const part of [userInfo, ...userInfo.split(':')]) {
    if (part.length < 3) continue;
    secrets.add(part);
    try {
      secrets.add(decodeURIComponent(part));
    } catch {
      // Not valid percent-encoding: only the raw form can appear.
    }
  }
  let redacted = message;
  // Longest first, so that the user:password pair goes before its parts.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    redacted = redacted.split(secret).join('***');
  }
  return redacted;
}

/** Whether a `hello` answer comes from a replica set member (or a mongos, which runs transactions too). */
export function isReplicaSetMember(hello: Document): boolean {
  return (typeof hello.setName === 'string' && hello.setName !== '') || hello.msg === 'isdbgrid';
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function probeMongo(uri: string, options: MongoProbeOptions = {}): Promise<MongoProbeResult> {
  let client: MongoClient;
  try {
    client = new MongoClient(uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? PROBE_SERVER_SELECTION_TIMEOUT_MS,
      connectTimeoutMS: options.serverSelectionTimeoutMS ?? PROBE_SERVER_SELECTION_TIMEOUT_MS,
    });
  } catch (error) {
    // The driver's parse error may quote the string: say what is wrong without it.
    throw new MongoStartupError(
      `MONGODB_URI is not a valid MongoDB connection string: ${redactCredentials(messageOf(error), uri)}`,
    );
  }
  const hosts = describeHosts(client);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error(`no answer within ${PROBE_DEADLINE_MS / 1000} s`);
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut), PROBE_DEADLINE_MS);
    });
    const hello = await Promise.race([client.db('admin').command({ hello: 1 }), deadline]);
    if (!isReplicaSetMember(hello)) {
      throw new MongoStartupError(
        `MongoDB at ${hosts} is not a replica set member (its hello answer names no replica set): the ` +
          'ledger commits in transactions, which need a replica set. Start mongod with --replSet and run ' +
          'rs.initiate(), or point MONGODB_URI at a replica set',
      );
    }
    return { setName: String(hello.setName ?? 'mongos'), hosts };
  } catch (error) {
    if (error instanceof MongoStartupError) throw error;
    // No `cause`: the driver's error is printed with it, and only this redacted message is checked.
    const reason = redactCredentials(messageOf(error), uri);
    if (
      error instanceof MongoServerSelectionError ||
      error instanceof MongoNetworkError ||
      error === timedOut
    ) {
      throw new MongoStartupError(`MongoDB at ${hosts} is unreachable: ${reason}`);
    }
    // It answered, but refused (authentication, authorisation): say so rather than "unreachable".
    throw new MongoStartupError(`MongoDB at ${hosts} refused the start-up check: ${reason}`);
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}
