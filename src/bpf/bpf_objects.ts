/**
 * The BPF objects a guest loaded, by handle, with everything they own: their maps (by fd, for
 * the map-fd ownership check), their links and their buffer pollers.
 */

import { getLibbpf } from "../ffi/libbpf_ffi.ts";
import type { BufferPoller } from "./events/buffer_poller.ts";
import type { Link } from "./link.ts";
import { BpfMapType, type MapFdRule, mapFdRule } from "./map_fds.ts";
import { PinRoot } from "./pin_root.ts";

/** Map types (linux/bpf.h enum bpf_map_type). */
export const MapType = BpfMapType;

const perCpuMapTypes: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);

/** What the host knows about one map of a loaded object. */
export interface MapInfo {
  readonly name: string;
  readonly fd: number;
  readonly type: number;
  readonly keySize: number;
  /** The size of a value buffer as user space sees it: for per-CPU maps
   * round_up(value_size, 8) × possible CPUs, as the kernel copies one slot per CPU. */
  readonly valueBufferSize: number;
  readonly maxEntries: number;
  /** Where its keys and values hold fds, which the guest may set only to fds it owns. */
  readonly fdRule: MapFdRule;
  readonly owner: LoadedObject;
}

let possibleCpus: number | undefined;

/** libbpf's count of possible CPUs (per-CPU values and perf buffers have one slot each). */
export function numPossibleCpus(): number {
  possibleCpus ??= getLibbpf().libbpf_num_possible_cpus();
  if (possibleCpus <= 0) throw new Error("libbpf_num_possible_cpus failed");
  return possibleCpus;
}

/** One loaded bpf_object and what it owns. */
export class LoadedObject {
  readonly handle: bigint;
  readonly #obj: Deno.PointerObject;
  readonly maps: MapInfo[] = [];
  /** The fds of its loaded programs. */
  readonly programFds: number[] = [];
  /** Its attached programs' links, destroyed with it. */
  readonly #links: Link[] = [];
  /** Its buffer pollers, by buffer map fd, freed with it. */
  readonly #pollers = new Map<number, BufferPoller>();
  #closed = false;

  constructor(handle: bigint, obj: Deno.PointerObject) {
    this.handle = handle;
    this.#obj = obj;
    const lib = getLibbpf();
    for (let m = lib.bpf_object__next_map(obj, null); m; m = lib.bpf_object__next_map(obj, m)) {
      const type = lib.bpf_map__type(m);
      const valueSize = lib.bpf_map__value_size(m);
      const keySize = lib.bpf_map__key_size(m);
      this.maps.push({
        name: Deno.UnsafePointerView.getCString(lib.bpf_map__name(m)!),
        fd: lib.bpf_map__fd(m),
        type,
        keySize,
        valueBufferSize: perCpuMapTypes.has(type)
          ? Math.ceil(valueSize / 8) * 8 * numPossibleCpus()
          : valueSize,
        maxEntries: lib.bpf_map__max_entries(m),
        fdRule: mapFdRule(type, keySize, valueSize),
        owner: this,
      });
    }
    for (
      let p = lib.bpf_object__next_program(obj, null);
      p !== null;
      p = lib.bpf_object__next_program(obj, p)
    ) {
      const fd = lib.bpf_program__fd(p);
      if (fd >= 0) this.programFds.push(fd);
    }
  }

  /** True when `fd` is one of its maps, programs or links. */
  ownsFd(fd: number): boolean {
    if (this.maps.some((m) => m.fd === fd) || this.programFds.includes(fd)) return true;
    return this.#links.some((link) => link.fd === fd);
  }

  /** Takes ownership of `link`, an attach of one of its programs: it is destroyed when this
   * object closes (at once if this object is closed already). */
  adopt(link: Link): void {
    if (this.#closed) link.close();
    else this.#links.push(link);
  }

  /** The poller of its buffer map `fd`, made by `create` on first use and kept until this
   * object closes; or the negative errno `create` returned. */
  pollerFor(fd: number, create: () => BufferPoller | number): BufferPoller | number {
    const existing = this.#pollers.get(fd);
    if (existing) return existing;
    const created = create();
    if (typeof created !== "number") {
      if (this.#closed) created.free();
      else this.#pollers.set(fd, created);
    }
    return created;
  }

  /** The libbpf object; valid until close. */
  get unsafeObject(): Deno.PointerObject {
    return this.#obj;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Detaches its links (concurrently: each tracepoint link costs 55-80 ms of kernel time),
   * frees its pollers and closes the object. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#freePollers();
    await Promise.all(this.#links.splice(0).map((link) => link.closeAsync()));
    getLibbpf().bpf_object__close(this.#obj);
  }

  /** The synchronous form of close, for paths that cannot await (process exit). */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#freePollers();
    for (const link of this.#links.splice(0)) link.close();
    getLibbpf().bpf_object__close(this.#obj);
  }

  #freePollers(): void {
    for (const poller of this.#pollers.values()) poller.free();
    this.#pollers.clear();
  }
}

/** All objects of one run: sequential handles, never reused; map fds indexed for ownership;
 * the directory their pinned maps go to. */
export class ObjectTable {
  readonly pins: PinRoot;
  readonly #objects = new Map<bigint, LoadedObject>();
  /** Indexed by fd (fds are small integers): an array index is cheaper than a `Map` lookup on
   * the map-operation hot path, and keeps that path's optimized code small. */
  readonly #mapsByFd: (MapInfo | undefined)[] = [];
  #nextHandle = 1n;

  /** `sharedPinRoot`: the `--pin-root` directory; a private one by default. */
  constructor(sharedPinRoot?: string) {
    this.pins = new PinRoot(sharedPinRoot);
  }

  add(obj: Deno.PointerObject): LoadedObject {
    const loaded = new LoadedObject(this.#nextHandle++, obj);
    this.#objects.set(loaded.handle, loaded);
    for (const map of loaded.maps) this.#mapsByFd[map.fd] = map;
    return loaded;
  }

  get(handle: bigint): LoadedObject | undefined {
    return this.#objects.get(handle);
  }

  /** The map behind `fd` if it belongs to an object this guest loaded and still holds. */
  mapByFd(fd: number): MapInfo | undefined {
    // fd is any i32 from the guest: only in-range indexes are read.
    return fd >= 0 && fd < this.#mapsByFd.length ? this.#mapsByFd[fd] : undefined;
  }

  get size(): number {
    return this.#objects.size;
  }

  /** True when `fd` is a map, program or link of an object this guest loaded and still holds:
   * the only fds it may store in a map (map_fds.ts). Not on a hot path: only maps whose keys
   * or values are fds ask. */
  ownsFd(fd: number): boolean {
    for (const loaded of this.#objects.values()) if (loaded.ownsFd(fd)) return true;
    return false;
  }

  /** Forgets `handle` and returns its object for closing. */
  remove(handle: bigint): LoadedObject | undefined {
    const loaded = this.#objects.get(handle);
    if (!loaded) return undefined;
    this.#objects.delete(handle);
    for (const map of loaded.maps) this.#mapsByFd[map.fd] = undefined;
    return loaded;
  }

  /** Closes every object and removes the pins the run created (at the end of a run, however
   * it ended). */
  async closeAll(): Promise<void> {
    const all = [...this.#objects.keys()].map((h) => this.remove(h)!);
    try {
      await Promise.all(all.map((o) => o.close()));
    } finally {
      this.pins.removePins();
    }
  }
}
