/**
 * A part of the ledger that runs on its own (the embedded profile's projector or Merkle tree thread) is
 * being started again after it stopped: nothing was done, and the same request can be sent again shortly
 * (HTTP 503 with Retry-After).
 */
export class RestartingError extends Error {
  override readonly name = 'RestartingError';
  constructor(
    /** As messages name it: "projector", "Merkle tree". */
    readonly component: string,
    message = `The ${component} is restarting; retry shortly`,
  ) {
    super(message);
  }
}
