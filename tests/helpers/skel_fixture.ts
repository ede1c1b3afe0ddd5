// The skeleton-layout fixture shared by the C and Rust skeleton tests: shared types with nested
// structs, arrays of structs, enums, unions, bitfields, pointers and `long`, one initialised
// value of them (`sample`), and global data of every kind, compiled for the bpf target.

const SHARED_H = `
enum color { RED = 1, GREEN = 2, BLUE = -3 };
enum big { BIG_A = 1, BIG_B = 0x100000000ULL };
struct point { short x; long y; };             /* long: 8 bytes in BPF, 4 in wasm32 */
struct flags {
    unsigned int a : 3;
    unsigned int b : 9;
    int c : 5;                                  /* signed bitfield */
    unsigned long long d : 40;                  /* crosses a 32-bit boundary */
    unsigned char e;
    enum color f : 4;                            /* enum bitfield */
};
union value { int i; char bytes[9]; void *ptr; };
typedef struct { char tag; long n; } tagged_t;
struct outer {
    char c;
    struct point p;                             /* nested, needs padding before */
    struct point pts[3];                        /* array of structs */
    enum color color;
    enum big big;
    struct flags fl;
    union value v;
    void *ptr;                                  /* pointer: uint64_t for the guest */
    unsigned long ul;
    struct { int anon_a; char anon_b; } anon;   /* anonymous nested struct */
    tagged_t t;
    char tail;                                  /* tail padding */
};
`;

// One initialiser for both sides: P() spells a pointer-sized value on each.
export const INIT = `{
    .c = 0x11,
    .p = { .x = 0x2233, .y = 0x0102030405060708 },
    .pts = { { .x = 1, .y = 0x1111111111 }, { .x = 2, .y = 0x2222222222 }, { .x = 3, .y = -3 } },
    .color = BLUE,
    .big = 0x100000000ULL, /* clang 14 truncates 64-bit enum values in BTF */
    .fl = { .a = 5, .b = 300, .c = -7, .d = 0xABCDEF1234ULL, .e = 0x99, .f = GREEN },
    .v = { .i = 0x77665544 },
    .ptr = P(0x8877665544332211),
    .ul = 0xFEDCBA9876543210,
    .anon = { .anon_a = 0x31323334, .anon_b = 0x35 },
    .t = { .tag = 0x36, .n = 0x3738393A3B3C3D3E },
    .tail = 0x7f,
}`;

export const ORIG_BPF_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
${SHARED_H}
#define P(v) ((void *)v)
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __type(key, tagged_t);
    __type(value, struct outer);
} m SEC(".maps");
union value uv __attribute__((unused));
struct outer sample = ${INIT};
/* global data of every kind for the datasec structs */
const volatile char r_c = 1;
const volatile long r_l = 2;
const volatile struct point r_pt = { 3, 4 };
const volatile int r_arr[3] = { 5, 6, 7 };
const void *const volatile r_ptr = 0;
static const volatile int r_static = 8;          /* static: not in the skeleton */
const volatile unsigned char r_last = 9;
int b_counter;
long b_long;
struct outer b_outer;
SEC("tp/syscalls/sys_enter_getpid")
int prog(void *ctx) { return r_c + r_l + r_pt.x + r_arr[1] + r_static + r_last + b_counter + (int)(long)r_ptr; }
char LICENSE[] SEC("license") = "GPL";
`;

/** A temporary directory with the fixture compiled by `clang` to `orig.bpf.o` (BTF kept). */
export async function compileFixture(clang: string): Promise<{ dir: string; obj: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-skel-" });
  await Deno.writeTextFile(`${dir}/orig.bpf.c`, ORIG_BPF_C);
  const args = ["-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu"];
  const o = await new Deno.Command(clang, {
    args: [...args, "-c", "orig.bpf.c", "-o", "orig.bpf.o"],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(`${clang} orig.bpf.c failed:\n${new TextDecoder().decode(o.stderr)}`);
  }
  return { dir, obj: await Deno.readFile(`${dir}/orig.bpf.o`) };
}
