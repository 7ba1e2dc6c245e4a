/**
 * @module registry
 * The two registries PHP keeps at MINIT: save-handler modules and session serializers.
 * Plain maps; lookup is case-insensitive as PHP's strcasecmp lookup is; at most 32 entries each
 * (MAX_MODULES, MAX_SERIALIZERS), registration fails when full or when the name is taken.
 */

/** PHP's MAX_MODULES and MAX_SERIALIZERS. */
export const MAX_REGISTRY_ENTRIES = 32;

export class Registry<T extends { readonly name: string }> {
  readonly #entries = new Map<string, T>();

  constructor(initial: Iterable<T> = []) {
    for (const e of initial) this.register(e);
  }

  /** Registers an entry; false when the name is already taken or the registry is full (PHP returns FAILURE). */
  register(entry: T): boolean {
    const key = entry.name.toLowerCase();
    if (this.#entries.has(key) || this.#entries.size >= MAX_REGISTRY_ENTRIES) return false;
    this.#entries.set(key, entry);
    return true;
  }

  /** Finds an entry by name, case-insensitively. */
  get(name: string): T | undefined {
    return this.#entries.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.#entries.has(name.toLowerCase());
  }

  /** Number of entries (entries are never removed, so an unchanged size means unchanged entries). */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries in registration order. */
  list(): T[] {
    return [...this.#entries.values()];
  }

  /** Registered names in registration order. */
  names(): string[] {
    return this.list().map((e) => e.name);
  }
}
