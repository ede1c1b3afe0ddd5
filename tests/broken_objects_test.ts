// Objects libbpf 1.1 cannot survive (issue 14, items 6 and 7), one per class, each made from a
// real compiled object (tests/guests/fuzz) by BTF surgery: the object check refuses each with a
// named reason. For the struct_ops map and the cycles, a child process shows what libbpf does
// without the check (a crash, a hang), and the CLI shows that with it the host carries on.
import assert from "node:assert/strict";
import { checkBpfObject } from "../src/guest/object_check.ts";
import { LoaderChild, makePinRoot } from "../scripts/fuzz_objects.ts";
import { K, ObjectSurgery } from "./helpers/btf_surgery.ts";
import { describeRun, guestsDir, kernelTest } from "./helpers/kernel.ts";
import { drive } from "./helpers/driver.ts";

const shapes = `${guestsDir}fuzz/shapes.bpf.o`;
const op = () => new ObjectSurgery(shapes);

/** Each class: the broken object, and the reason the check must give. */
export const classes: [string, () => Uint8Array, RegExp][] = [
  [
    "a struct_ops map (a valid one-map object)",
    () => Deno.readFileSync(`${guestsDir}fuzz/structops.bpf.o`),
    /map "ops": struct_ops maps are not supported/,
  ],
  [
    "struct_ops sections and programs",
    () => Deno.readFileSync(`${guestsDir}fuzz/structops_sections.bpf.o`),
    /struct_ops\S*: struct_ops is not supported/,
  ],
  [
    "a typedef that refers to itself (a map's type)",
    () => {
      const s = op();
      const t = s.type(K.TYPEDEF, "counter_t");
      return s.setRef(t, t.id).setRef(s.type(K.VAR, "nodes"), t.id).bytes;
    },
    /\.BTF: a reference cycle \(at type \d+/,
  ],
  [
    "a restrict that refers to itself (a map's type)",
    () => {
      const s = op();
      const t = s.type(K.RESTRICT);
      return s.setRef(t, t.id).setRef(s.type(K.VAR, "nodes"), t.id).bytes;
    },
    /\.BTF: a reference cycle \(at type \d+/,
  ],
  [
    "a struct that contains itself (not through a pointer)",
    () => {
      const s = op();
      const node = s.type(K.STRUCT, "node");
      return s.setMemberType(node, 0, node.id).bytes;
    },
    /\.BTF: a reference cycle \(at type \d+/,
  ],
  [
    "a pointer cycle through no struct (restrict → pointer → restrict)",
    () => {
      const s = op();
      const r = s.type(K.RESTRICT);
      return s.setRef(s.btf.types[r.sizeOrType]!, r.id).bytes;
    },
    /\.BTF: a pointer cycle through no struct or union/,
  ],
  [
    "a chain of 72 typedefs (depth bomb)",
    () => Deno.readFileSync(`${guestsDir}fuzz/deep.bpf.o`),
    /\.BTF: a chain of \d+ type references, more than 64/,
  ],
  [
    "a variable whose type is a function",
    () => {
      const s = op();
      return s.setRef(s.type(K.VAR, "seen"), s.type(K.FUNC, "on_getppid").id).bytes;
    },
    /type \d+ \(var\): its variable is type \d+ \(func\), where libbpf expects data/,
  ],
  [
    "a type of a kind libbpf 1.1 does not know",
    () => {
      const s = op();
      return s.setKind(s.type(K.TYPEDEF, "counter_t"), 25).bytes;
    },
    /kind libbpf 1\.1 does not know \(25\)/,
  ],
  [
    "a BTF.ext func_info naming a type out of range",
    () => op().setFirstFuncInfoType(9999).bytes,
    /\.BTF\.ext: func_info record 0 of \S+: not a function/,
  ],
  [
    "two sections of one name",
    () => op().renameSection("license", ".maps").bytes,
    /two sections named "\.maps"/,
  ],
  [
    "a section 0 that is not the null section (a symbol table past the end of the file)",
    () => {
      const bytes = op().bytes.slice();
      const view = new DataView(bytes.buffer);
      const shoff = Number(view.getBigUint64(0x28, true)); // e_shoff; header 0 is the first
      view.setUint32(shoff + 4, 2, true); // sh_type = SHT_SYMTAB
      view.setBigUint64(shoff + 24, BigInt(bytes.length + 4096), true); // sh_offset
      view.setBigUint64(shoff + 32, 48n, true); // sh_size: two symbols
      view.setBigUint64(shoff + 56, 24n, true); // sh_entsize
      return bytes;
    },
    /section 0 is not the null section/,
  ],
  [
    "an array map of 2^31 entries (16 GiB)",
    () => {
      const s = op();
      return s.setArrayLength(s.mapMember("nodes", "max_entries"), 2 ** 31).bytes;
    },
    /map "nodes": 2147483648 entries of 4\+16 bytes, more than 1073741824 bytes/,
  ],
  [
    "a per-CPU map of 2^21 entries",
    () => {
      const s = op();
      s.setArrayLength(s.mapMember("nodes", "type"), 6); // BPF_MAP_TYPE_PERCPU_ARRAY
      return s.setArrayLength(s.mapMember("nodes", "max_entries"), 2 ** 21).bytes;
    },
    /map "nodes": a per-CPU map of 2097152 entries, more than 1048576/,
  ],
];

Deno.test("object check: the unbroken test objects pass", () => {
  for (const f of ["fuzz/shapes.bpf.o", "fuzz/fuzz.bpf.o", "policy/tponly.bpf.o"]) {
    assert.equal(checkBpfObject(Deno.readFileSync(`${guestsDir}${f}`)), null, f);
  }
});

for (const [what, make, reason] of classes) {
  Deno.test(`object check refuses ${what}`, () => {
    assert.match(checkBpfObject(make()) ?? "accepted", reason);
  });
}

Deno.test("object check: an internal error refuses the object instead of throwing", () => {
  // bytes whose subarray throws: a stand-in for any bug in the check
  class Faulty extends Uint8Array {
    override subarray(): Uint8Array<ArrayBuffer> {
      throw new TypeError("a bug");
    }
  }
  const bytes = new Faulty(Deno.readFileSync(shapes));
  assert.match(checkBpfObject(bytes) ?? "accepted", /internal error in the object check/);
});

// Without the check: what libbpf 1.1 does with these objects, in a child it can take down.
const demonstrations: [string, number, "crash" | "hang"][] = [
  ["a struct_ops map (a valid one-map object)", 0, "crash"],
  ["a typedef that refers to itself (a map's type)", 2, "hang"],
  ["a restrict that refers to itself (a map's type)", 3, "hang"],
];
for (const [what, index, outcome] of demonstrations) {
  kernelTest(
    `without the check, libbpf 1.1 ${outcome === "crash" ? "crashes" : "hangs"} on ${what}`,
    async () => {
      assert.equal(classes[index][0], what);
      const pinRoot = makePinRoot();
      const child = new LoaderChild(pinRoot);
      try {
        const r = await child.load(classes[index][1](), 3000);
        if (outcome === "crash") assert.deepEqual(r, { signal: "SIGSEGV" });
        else assert.deepEqual(r, { hang: true });
      } finally {
        await child.close();
        Deno.removeSync(pinRoot, { recursive: true });
      }
    },
  );
}

kernelTest(
  "the CLI refuses a struct_ops map and a typedef cycle, then loads a good object",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-broken-objects-" });
    try {
      Deno.writeFileSync(`${dir}/structops.o`, classes[0][1]());
      Deno.writeFileSync(`${dir}/cycle.o`, classes[2][1]());
      Deno.copyFileSync(`${guestsDir}policy/tponly.bpf.o`, `${dir}/good.o`);
      const r = await drive(["load:/o/structops.o", "load:/o/cycle.o", "load:/o/good.o"], {
        dirs: [`${dir}:/o`],
      });
      assert.equal(r.signal, null, describeRun(r));
      assert.equal(r.stdout, "load 0\nload 0\nload 1\n", describeRun(r));
      assert.match(r.stderr, /struct_ops maps are not supported/, describeRun(r));
      assert.match(r.stderr, /a reference cycle \(at type/, describeRun(r));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
