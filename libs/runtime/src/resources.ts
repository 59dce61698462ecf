interface Opened {
  name: string;
  close: () => unknown;
}

/**
 * What a process opened, closed in the reverse order: a resource is closed before those it was opened
 * with (a thread before the connection it was started on, the Merkle tree's thread before the file).
 * Every resource is closed even when one fails to; the failures are thrown after, together.
 */
export class Resources {
  private readonly opened: Opened[] = [];
  private closed: Promise<void> | undefined;

  /** Registers `resource`, just opened, with what closes it; returns it. */
  add<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    if (this.closed) throw new Error(`${name} was opened after its resources were closed`);
    this.opened.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Closes everything, newest first, once however often it is called. */
  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  /**
   * For a start that failed halfway: closes what was opened, then throws `error` (or, when closing failed
   * too, an AggregateError holding `error` first, under its message).
   */
  async abandon(error: unknown): Promise<never> {
    try {
      await this.close();
    } catch (closing) {
      const failures = closing instanceof AggregateError ? closing.errors : [closing];
      throw new AggregateError([error, ...failures], errorMessage(error), { cause: closing });
    }
    throw error;
  }

  private async closeAll(): Promise<void> {
    const failures: Error[] = [];
    for (const { name, close } of this.opened.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(new Error(`closing ${name} failed: ${errorMessage(error)}`, { cause: error }));
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new AggregateError(failures, failures.map((failure) => failure.message).join('; '));
    }
  }
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
