import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { openEmbeddedLedger, THREAD_NAMES } from '@app/runtime';
import { tempDataDir } from '../support/ledger-harness';

const threadNames = () =>
  readdirSync('/proc/self/task').map((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());

const mainThreadName = () => readFileSync(`/proc/self/task/${process.pid}/comm`, 'utf8').trim();

// Thread names exist on Linux only (/proc/thread-self/comm); elsewhere the threads keep Node's name.
const onLinux = existsSync('/proc/thread-self/comm') ? describe : describe.skip;

onLinux('the embedded ledger names its threads', () => {
  it('so that top -H, ps -L and perf tell the projector and the Merkle tree from the request thread', async () => {
    const dataDir = tempDataDir();
    const before = threadNames();
    const mainBefore = mainThreadName();
    const ledger = await openEmbeddedLedger(dataDir, { digestIntervalSeconds: 0 });
    try {
      const names = threadNames();
      expect(names).toEqual(expect.arrayContaining([THREAD_NAMES.projector, THREAD_NAMES.merkleTree]));
      expect(before).not.toContain(THREAD_NAMES.projector);
      // The main thread (which opened the ledger) keeps its own name.
      expect(mainThreadName()).toBe(mainBefore);
      expect(Object.values(THREAD_NAMES)).not.toContain(mainBefore);
    } finally {
      await ledger.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
