import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('serves a value until its time to live is over, then forgets it', () => {
    const cache = new BoundedCache<string, number>(10, 5_000, now);
    cache.set('a', 1);
    clock += 4_999;
    expect(cache.get('a')).toBe(1);
    clock += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = new BoundedCache<string, number>(3, 60_000, now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1);
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.get('d')]).toEqual([1, undefined, 3, 4]);
  });

  it('forgets matching values at once, and caches nothing with a zero time to live', () => {
    const cache = new BoundedCache<string, { id: string }>(10, 60_000, now);
    cache.set('hash-1', { id: 'k1' });
    cache.set('hash-2', { id: 'k2' });
    cache.deleteWhere((value) => value.id === 'k1');
    expect([cache.get('hash-1'), cache.get('hash-2')]).toEqual([undefined, { id: 'k2' }]);
    const off = new BoundedCache<string, number>(10, 0, now);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
    expect(() => new BoundedCache(0, 1)).toThrow(RangeError);
    expect(() => new BoundedCache(1, -1)).toThrow(RangeError);
  });
});
