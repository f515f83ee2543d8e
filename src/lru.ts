/**
 * A bounded map that forgets the least recently used entries first (Map keeps
 * insertion order). Each entry weighs `weigh(key, value)` (1 by default) and the
 * total stays at or under `capacity`.
 */
export class Lru<K, V> {
  readonly #entries = new Map<K, { value: V; weight: number }>();
  readonly #weigh: (key: K, value: V) => number;
  #total = 0;

  constructor(
    readonly capacity: number,
    weigh?: (key: K, value: V) => number,
  ) {
    this.#weigh = weigh ?? (() => 1);
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.#weigh(key, value);
    if (weight > this.capacity) return;
    this.#entries.set(key, { value, weight });
    this.#total += weight;
    for (const [oldest, entry] of this.#entries) {
      if (this.#total <= this.capacity) break;
      this.#entries.delete(oldest);
      this.#total -= entry.weight;
    }
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#total -= entry.weight;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entries' total weight. */
  get weight(): number {
    return this.#total;
  }
}
