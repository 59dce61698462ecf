import { writeFileSync } from 'node:fs';

/** Thread names of the embedded profile, as `top -H`, `ps -L` and `perf` show them (Linux: 15 bytes). */
export const THREAD_NAMES = {
  projector: 'ledger-project',
  merkleTree: 'ledger-merkle',
  rebuild: 'ledger-rebuild',
} as const;

/**
 * Names the calling thread, so that an operator (and bench:commands) can tell the projector's CPU from
 * the request thread's: every thread of a Node process is otherwise called `node`. Linux only; elsewhere,
 * or where /proc is not mounted, the thread keeps its name.
 */
export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or no /proc: nothing to name.
  }
}
