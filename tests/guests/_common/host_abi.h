/* The wasm_bpf host imports, declared with the wasm types of docs/abi.md §1, plus small helpers
 * shared by the host-ABI test guests (tests/guests/<name>/). Deliberately independent of
 * wasm-include/libbpf-wasm.h: these guests test the raw ABI, not the guest library. */
#ifndef WASM_BPF_TEST_HOST_ABI_H
#define WASM_BPF_TEST_HOST_ABI_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WASM_BPF_IMPORT(name) \
  __attribute__((import_module("wasm_bpf"), import_name(#name)))

WASM_BPF_IMPORT(wasm_load_bpf_object)
int64_t wasm_load_bpf_object(uint32_t obj_buf, int32_t obj_buf_sz);
WASM_BPF_IMPORT(wasm_close_bpf_object)
int32_t wasm_close_bpf_object(int64_t handle);
WASM_BPF_IMPORT(wasm_attach_bpf_program)
int32_t wasm_attach_bpf_program(int64_t handle, uint32_t name, uint32_t attach_target);
WASM_BPF_IMPORT(wasm_bpf_map_fd_by_name)
int32_t wasm_bpf_map_fd_by_name(int64_t handle, uint32_t name);
WASM_BPF_IMPORT(wasm_bpf_map_operate)
int32_t wasm_bpf_map_operate(int32_t fd, int32_t cmd, uint32_t key, uint32_t value,
                             uint32_t next_key, uint64_t flags);

#ifndef NO_TABLE_POLL
WASM_BPF_IMPORT(wasm_bpf_buffer_poll)
int32_t wasm_bpf_buffer_poll(int64_t handle, int32_t fd, int32_t sample_func, uint32_t ctx,
                             uint32_t data, int32_t max_size, int32_t timeout_ms);
#endif

/* Guest pointer <-> i32 offset in linear memory. */
#define P(x) ((uint32_t)(uintptr_t)(x))

#define CMD_LOOKUP 1
#define CMD_UPDATE 2
#define CMD_DELETE 3
#define CMD_NEXT_KEY 4

#define E_NOENT (-2)
#define E_INTR (-4)
#define E_BADF (-9)
#define E_2BIG (-7)
#define E_FAULT (-14)
#define E_EXIST (-17)
#define E_INVAL (-22)

#define PAGE 65536u

static int g_ok, g_fail;

/* One result line per check: "ok <name>" or "FAIL <name> got=<g> want=<w>". */
static void check_eq(const char *name, long long got, long long want) {
  if (got == want) {
    printf("ok %s\n", name);
    g_ok++;
  } else {
    printf("FAIL %s got=%lld want=%lld\n", name, got, want);
    g_fail++;
  }
  fflush(stdout); /* keep the lines already printed if the host dies on the next call */
}

static void check_true(const char *name, int cond, long long got) {
  if (cond) {
    printf("ok %s\n", name);
    g_ok++;
  } else {
    printf("FAIL %s got=%lld want=<condition>\n", name, got);
    g_fail++;
  }
  fflush(stdout); /* keep the lines already printed if the host dies on the next call */
}

static int finish(void) {
  printf("summary ok=%d fail=%d\n", g_ok, g_fail);
  fflush(stdout);
  return g_fail ? 1 : 0;
}

static inline uint32_t mem_size(void) {
  return (uint32_t)__builtin_wasm_memory_size(0) * PAGE;
}

/* Grows memory by one page and returns the address of that (fresh, unused) page, so a guest can
 * place buffers right at the end of memory without clobbering the heap. */
static uint32_t grow_page(void) {
  uint32_t old = (uint32_t)__builtin_wasm_memory_grow(0, 1);
  if (old == 0xffffffffu) {
    printf("FAIL memory.grow\n");
    return 0;
  }
  return old * PAGE;
}

/* File offset and size of an ELF64 section by name (for patching .rodata before load, as a
 * skeleton does). Returns -1 if absent. */
static long elf_section(const unsigned char *elf, unsigned len, const char *want, unsigned *size) {
  uint64_t shoff;
  uint16_t shentsize, shnum, shstrndx;
  if (len < 64 || memcmp(elf, "\177ELF", 4) != 0) return -1;
  memcpy(&shoff, elf + 0x28, 8);
  memcpy(&shentsize, elf + 0x3a, 2);
  memcpy(&shnum, elf + 0x3c, 2);
  memcpy(&shstrndx, elf + 0x3e, 2);
  uint64_t stroff;
  memcpy(&stroff, elf + shoff + (uint64_t)shstrndx * shentsize + 0x18, 8);
  for (unsigned i = 0; i < shnum; i++) {
    const unsigned char *sh = elf + shoff + (uint64_t)i * shentsize;
    uint32_t name;
    uint64_t off, sz;
    memcpy(&name, sh, 4);
    memcpy(&off, sh + 0x18, 8);
    memcpy(&sz, sh + 0x20, 8);
    if (strcmp((const char *)elf + stroff + name, want) == 0) {
      if (size) *size = (unsigned)sz;
      return (long)off;
    }
  }
  return -1;
}

#endif
