// What the fuzzer knows the host holds, to tell which result each call must have: the live
// handles and their map fds, every handle ever returned, and fds of closed objects.

/** Fds of closed objects kept to aim calls at (the newest ones). */
const DEAD_FDS_KEPT = 64;

export class Model {
  /** Live handles, with the map fds by name of each. */
  readonly live = new Map<bigint, Map<string, number>>();
  /** Every handle load returned, closed or not. */
  readonly everHandles: bigint[] = [];
  /** The last handle load returned: the next must be one more. */
  lastHandle = 0n;
  /** Map fds of closed objects. */
  readonly deadFds: number[] = [];

  /** Records a handle load returned, with its objects' map fds. */
  loaded(h: bigint, maps: Map<string, number>): void {
    this.lastHandle = h;
    this.everHandles.push(h);
    this.live.set(h, maps);
  }

  /** Records the handle `h` as closed (if live). */
  closed(h: bigint): void {
    const maps = this.live.get(h);
    if (maps) {
      this.deadFds.push(...maps.values());
      if (this.deadFds.length > DEAD_FDS_KEPT) {
        this.deadFds.splice(0, this.deadFds.length - DEAD_FDS_KEPT);
      }
      this.live.delete(h);
    }
  }

  /** Records every live handle as closed (the host closed all objects). */
  closedAll(): void {
    for (const maps of this.live.values()) this.deadFds.push(...maps.values());
    this.live.clear();
  }

  /** The map fds of live objects. */
  ownedFds(): Set<number> {
    return new Set([...this.live.values()].flatMap((m) => [...m.values()]));
  }
}
