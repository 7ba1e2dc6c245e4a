/**
 * @module handlers/shared/read-lease
 * A module's last read, for SaveHandler.release: the bytes read() returned and the reply value
 * they are a view of. When the engine releases those exact bytes (it no longer references them),
 * the value goes back to the client that lent its read buffer (`giveBack`: the memcache client's
 * frames.ts releaseValue, the redis reply reader's releaseReply), once. Any other bytes are ignored.
 */
export class ReadLease {
  #bytes: Uint8Array | null = null;
  #value: Uint8Array | null = null;

  constructor(readonly giveBack: (value: Uint8Array) => unknown) {}

  /** `bytes` (returned by read()) are `value`'s memory: remembered for {@link release}; returns `bytes`. */
  hold(bytes: Uint8Array, value: Uint8Array = bytes): Uint8Array {
    this.#bytes = bytes;
    this.#value = value;
    return bytes;
  }

  release(bytes: Uint8Array): void {
    const value = this.#value;
    const held = this.#bytes;
    this.#bytes = null;
    this.#value = null;
    if (held === bytes && value !== null && bytes.length > 0) this.giveBack(value);
  }
}
