/** Messages from the main thread to its Merkle tree thread. */
export type ToTreeThread = { type: 'catch-up'; id: number } | { type: 'stop' };

/** Messages from the Merkle tree thread. */
export type FromTreeThread =
  | { type: 'ready'; treeSize: number }
  | { type: 'caught-up'; id: number; treeSize: number }
  | { type: 'catch-up-failed'; id: number; message: string }
  /** A scheduled follow failed; sent once per distinct message. */
  | { type: 'follow-failed'; message: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export interface TreeThreadData {
  /** The SQLite file that holds the tree (and, in the embedded profile, the events). */
  file: string;
  /** Set in the EventStoreDB profile: the thread reads events through its own client of that server. */
  eventStoreConnectionString?: string;
  followIntervalMs: number;
  batchSize?: number;
}
