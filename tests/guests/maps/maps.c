// Host-ABI test guest: wasm_bpf_map_operate on HASH, ARRAY, PERCPU_ARRAY and PERCPU_HASH maps.
// Usage: maps.wasm <possible-cpus>
// Prints "ok <check>" or "FAIL <check> got=... want=..." per check; exits 1 on any failure.
#include <stdlib.h>
#include "../_common/host_abi.h"
#include "maps.bpf.bytes.h"

#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2

struct val12 {
  uint32_t a, b, c;
};
_Static_assert(sizeof(struct val12) == 12, "val12 layout");

static int64_t load_with_magic(uint64_t magic) {
  unsigned sz = 0;
  long off = elf_section(maps_bpf_o, maps_bpf_o_len, ".rodata", &sz);
  if (off < 0 || sz < 8) {
    printf("FAIL no .rodata section in the embedded object\n");
    return 0;
  }
  memcpy(maps_bpf_o + off, &magic, 8); /* what skel->rodata->magic = v does */
  return wasm_load_bpf_object(P(maps_bpf_o), (int32_t)maps_bpf_o_len);
}

static int fd_of(int64_t h, const char *name) {
  return wasm_bpf_map_fd_by_name(h, P(name));
}

static int lookup(int fd, const void *key, void *val) {
  return wasm_bpf_map_operate(fd, CMD_LOOKUP, P(key), P(val), 0, 0);
}
static int update(int fd, const void *key, const void *val, uint64_t flags) {
  return wasm_bpf_map_operate(fd, CMD_UPDATE, P(key), P(val), 0, flags);
}
static int delete(int fd, const void *key) {
  return wasm_bpf_map_operate(fd, CMD_DELETE, P(key), 0, 0, 0);
}
static int next_key(int fd, const void *key, void *next) {
  return wasm_bpf_map_operate(fd, CMD_NEXT_KEY, P(key), 0, P(next), 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("usage: maps.wasm <possible-cpus>\n");
    return 2;
  }
  int ncpu = atoi(argv[1]);
  printf("info ncpu=%d\n", ncpu);

  /* --- load twice with different .rodata: load must copy the bytes at call time --- */
  int64_t h1 = load_with_magic(0xA1A1A1A1A1A1A1A1ULL);
  int64_t h2 = load_with_magic(0xB2B2B2B2B2B2B2B2ULL);
  check_true("load.first", h1 > 0, h1);
  check_eq("load.second_is_next_handle", h2, h1 + 1);
  if (h1 <= 0 || h2 <= 0) return finish();

  int fd_h = fd_of(h1, "hash_map"), fd_a = fd_of(h1, "array_map");
  int fd_pa = fd_of(h1, "pcpu_array"), fd_ph = fd_of(h1, "pcpu_hash");
  int fd_ro = fd_of(h1, ".rodata"), fd_bss = fd_of(h1, ".bss");
  int fd2_h = fd_of(h2, "hash_map"), fd2_ro = fd_of(h2, ".rodata");
  int all[] = {fd_h, fd_a, fd_pa, fd_ph, fd_ro, fd_bss, fd2_h, fd2_ro,
               fd_of(h2, "array_map"), fd_of(h2, "pcpu_array"), fd_of(h2, "pcpu_hash"),
               fd_of(h2, ".bss")};
  int nall = sizeof(all) / sizeof(all[0]), maxfd = 0, fds_ok = 1;
  for (int i = 0; i < nall; i++) {
    if (all[i] <= 2) fds_ok = 0;
    if (all[i] > maxfd) maxfd = all[i];
  }
  check_true("fd_by_name.all_maps_are_real_fds", fds_ok, fd_h);
  check_true("fd_by_name.objects_have_distinct_maps", fd_h != fd2_h, fd2_h);
  check_eq("fd_by_name.same_name_same_fd", fd_of(h1, "hash_map"), fd_h);

  uint32_t k0 = 0;
  uint64_t ro = 0;
  check_eq("rodata.lookup", lookup(fd_ro, &k0, &ro), 0);
  check_eq("rodata.first_load_saw_its_patch", (long long)ro, (long long)0xA1A1A1A1A1A1A1A1ULL);
  ro = 0;
  lookup(fd2_ro, &k0, &ro);
  check_eq("rodata.second_load_saw_its_patch", (long long)ro, (long long)0xB2B2B2B2B2B2B2B2ULL);

  /* --- HASH: u32 -> u64 --- */
  uint32_t k, nk;
  uint64_t v;
  k = 7;
  check_eq("hash.lookup_missing", lookup(fd_h, &k, &v), E_NOENT);
  check_eq("hash.next_key_null_on_empty", next_key(fd_h, 0, &nk), E_NOENT);
  int r = 0;
  for (k = 1; k <= 5; k++) {
    v = k * 100;
    r |= update(fd_h, &k, &v, BPF_ANY);
  }
  check_eq("hash.update_any_1_to_5", r, 0);
  k = 3;
  v = 333;
  check_eq("hash.update_noexist_existing", update(fd_h, &k, &v, BPF_NOEXIST), E_EXIST);
  k = 9;
  check_eq("hash.update_exist_missing", update(fd_h, &k, &v, BPF_EXIST), E_NOENT);
  k = 3;
  check_eq("hash.update_bad_flags", update(fd_h, &k, &v, 99), E_INVAL);
  v = 0;
  check_eq("hash.lookup", lookup(fd_h, &k, &v), 0);
  check_eq("hash.lookup_value", (long long)v, 300);
  k = 4;
  v = 444;
  check_eq("hash.update_exist_existing", update(fd_h, &k, &v, BPF_EXIST), 0);
  v = 0;
  lookup(fd_h, &k, &v);
  check_eq("hash.updated_value", (long long)v, 444);
  k = 2;
  check_eq("hash.delete", delete(fd_h, &k), 0);
  check_eq("hash.lookup_deleted", lookup(fd_h, &k, &v), E_NOENT);
  check_eq("hash.delete_deleted", delete(fd_h, &k), E_NOENT);
  nk = 12345;
  check_eq("hash.next_key_null", next_key(fd_h, 0, &nk), 0);
  check_true("hash.next_key_null_is_a_key", nk == 1 || nk == 3 || nk == 4 || nk == 5, nk);
  {
    int count = 0, sum = 0, ret;
    uint32_t cur, nxt;
    ret = next_key(fd_h, 0, &nxt);
    while (ret == 0 && count < 100) {
      count++;
      sum += nxt;
      cur = nxt;
      ret = next_key(fd_h, &cur, &nxt);
    }
    check_eq("hash.walk_count", count, 4);
    check_eq("hash.walk_keys_sum", sum, 1 + 3 + 4 + 5);
    check_eq("hash.walk_ends_with_enoent", ret, E_NOENT);
  }

  /* --- ARRAY: u32 -> struct val12, 4 entries --- */
  struct val12 sv;
  r = 0;
  for (k = 0; k < 4; k++) {
    sv.a = k;
    sv.b = k * 2;
    sv.c = k * 3 + 1;
    r |= update(fd_a, &k, &sv, BPF_ANY);
  }
  check_eq("array.update_0_to_3", r, 0);
  k = 2;
  memset(&sv, 0, sizeof sv);
  check_eq("array.lookup", lookup(fd_a, &k, &sv), 0);
  check_true("array.lookup_value", sv.a == 2 && sv.b == 4 && sv.c == 7, sv.c);
  nk = 12345;
  check_eq("array.next_key_null", next_key(fd_a, 0, &nk), 0);
  check_eq("array.next_key_null_is_first_key_0", nk, 0);
  {
    int count = 0, ordered = 1, ret;
    uint32_t cur, nxt;
    ret = next_key(fd_a, 0, &nxt);
    while (ret == 0 && count < 100) {
      if (nxt != (uint32_t)count) ordered = 0;
      count++;
      cur = nxt;
      ret = next_key(fd_a, &cur, &nxt);
    }
    check_eq("array.walk_count", count, 4);
    check_true("array.walk_order_0_1_2_3", ordered, count);
    check_eq("array.walk_ends_with_enoent", ret, E_NOENT);
  }
  k = 3;
  check_eq("array.next_key_of_last", next_key(fd_a, &k, &nk), E_NOENT);
  k = 4;
  check_eq("array.update_out_of_range", update(fd_a, &k, &sv, BPF_ANY), E_2BIG);
  k = 9;
  check_eq("array.lookup_out_of_range", lookup(fd_a, &k, &sv), E_NOENT);
  k = 1;
  check_eq("array.update_noexist", update(fd_a, &k, &sv, BPF_NOEXIST), E_EXIST);
  check_eq("array.delete_not_supported", delete(fd_a, &k), E_INVAL);

  /* --- PERCPU_ARRAY: value_size 4 -> 8 bytes per possible CPU --- */
  uint32_t pa_sz = 8 * ncpu;
  unsigned char *pbuf = calloc(1, 16 * ncpu + 16);
  for (int c = 0; c < ncpu; c++) {
    uint32_t x = 1000 + c;
    memcpy(pbuf + c * 8, &x, 4);
  }
  k = 1;
  check_eq("pcpu_array.update", update(fd_pa, &k, pbuf, BPF_ANY), 0);
  memset(pbuf, 0xee, 16 * ncpu);
  check_eq("pcpu_array.lookup", lookup(fd_pa, &k, pbuf), 0);
  {
    int good = 1;
    for (int c = 0; c < ncpu; c++) {
      uint32_t x;
      memcpy(&x, pbuf + c * 8, 4);
      if (x != 1000u + c) good = 0;
    }
    check_true("pcpu_array.lookup_values_per_cpu", good, 0);
    /* the host must copy exactly round_up(4,8) * ncpu bytes: nothing after that */
    check_eq("pcpu_array.no_write_past_value", pbuf[pa_sz], 0xee);
  }
  /* buffers at the very end of (grown) memory */
  uint32_t page = grow_page();
  uint32_t end = page + PAGE;
  check_eq("memory.end_is_memory_size", end, mem_size());
  check_eq("pcpu_array.value_ends_at_memory_end", wasm_bpf_map_operate(fd_pa, CMD_LOOKUP, P(&k),
                                                                       end - pa_sz, 0, 0),
           0);
  {
    uint32_t x;
    memcpy(&x, (void *)(uintptr_t)(end - pa_sz + (ncpu - 1) * 8), 4);
    check_eq("pcpu_array.value_at_end_last_cpu", x, 1000 + ncpu - 1);
  }
  check_eq("pcpu_array.value_one_byte_short", wasm_bpf_map_operate(fd_pa, CMD_LOOKUP, P(&k),
                                                                   end - pa_sz + 1, 0, 0),
           E_FAULT);
  check_eq("pcpu_array.update_value_one_byte_short",
           wasm_bpf_map_operate(fd_pa, CMD_UPDATE, P(&k), end - pa_sz + 1, 0, 0), E_FAULT);
  memcpy((void *)(uintptr_t)(end - 4), &k, 4);
  check_eq("pcpu_array.key_ends_at_memory_end",
           wasm_bpf_map_operate(fd_pa, CMD_LOOKUP, end - 4, P(pbuf), 0, 0), 0);
  check_eq("pcpu_array.key_one_byte_short",
           wasm_bpf_map_operate(fd_pa, CMD_LOOKUP, end - 3, P(pbuf), 0, 0), E_FAULT);

  /* --- PERCPU_HASH: u64 -> struct val12 (12) -> 16 bytes per possible CPU --- */
  uint32_t ph_sz = 16 * ncpu;
  uint64_t hk = 0x1234567890ULL, hnk = 0;
  memset(pbuf, 0, 16 * ncpu + 16);
  for (int c = 0; c < ncpu; c++) {
    struct val12 x = {c + 1, c + 2, c + 3};
    memcpy(pbuf + c * 16, &x, 12);
  }
  check_eq("pcpu_hash.update", update(fd_ph, &hk, pbuf, BPF_ANY), 0);
  check_eq("pcpu_hash.update_noexist_existing", update(fd_ph, &hk, pbuf, BPF_NOEXIST), E_EXIST);
  memset(pbuf, 0xee, 16 * ncpu + 16);
  check_eq("pcpu_hash.lookup", lookup(fd_ph, &hk, pbuf), 0);
  {
    int good = 1;
    for (int c = 0; c < ncpu; c++) {
      struct val12 x;
      memcpy(&x, pbuf + c * 16, 12);
      if (x.a != (uint32_t)c + 1 || x.b != (uint32_t)c + 2 || x.c != (uint32_t)c + 3) good = 0;
    }
    check_true("pcpu_hash.lookup_values_per_cpu", good, 0);
    check_eq("pcpu_hash.no_write_past_value", pbuf[ph_sz], 0xee);
  }
  end = mem_size();
  check_eq("pcpu_hash.value_ends_at_memory_end",
           wasm_bpf_map_operate(fd_ph, CMD_LOOKUP, P(&hk), end - ph_sz, 0, 0), 0);
  check_eq("pcpu_hash.value_one_byte_short",
           wasm_bpf_map_operate(fd_ph, CMD_LOOKUP, P(&hk), end - ph_sz + 1, 0, 0), E_FAULT);
  check_eq("pcpu_hash.next_key_null", next_key(fd_ph, 0, &hnk), 0);
  check_eq("pcpu_hash.next_key_null_value", (long long)hnk, (long long)hk);
  check_eq("pcpu_hash.next_key_buffer_one_byte_short",
           wasm_bpf_map_operate(fd_ph, CMD_NEXT_KEY, 0, 0, end - 7, 0), E_FAULT);
  check_eq("pcpu_hash.next_key_buffer_at_end",
           wasm_bpf_map_operate(fd_ph, CMD_NEXT_KEY, 0, 0, end - 8, 0), 0);
  check_eq("pcpu_hash.delete", delete(fd_ph, &hk), 0);
  check_eq("pcpu_hash.lookup_deleted", lookup(fd_ph, &hk, pbuf), E_NOENT);

  /* --- generic bounds on a plain map (value_size 8) --- */
  k = 3;
  end = mem_size();
  check_eq("hash.value_one_byte_short",
           wasm_bpf_map_operate(fd_h, CMD_LOOKUP, P(&k), end - 7, 0, 0), E_FAULT);
  check_eq("hash.value_at_end", wasm_bpf_map_operate(fd_h, CMD_LOOKUP, P(&k), end - 8, 0, 0), 0);
  check_eq("hash.key_at_memory_size", wasm_bpf_map_operate(fd_h, CMD_LOOKUP, end, P(&v), 0, 0),
           E_FAULT);
  check_eq("hash.key_wraps_4g",
           wasm_bpf_map_operate(fd_h, CMD_LOOKUP, 0xfffffffeu, P(&v), 0, 0), E_FAULT);
  check_eq("hash.delete_key_at_memory_size",
           wasm_bpf_map_operate(fd_h, CMD_DELETE, end, 0, 0, 0), E_FAULT);
  check_eq("hash.next_key_key_at_memory_size",
           wasm_bpf_map_operate(fd_h, CMD_NEXT_KEY, end - 2, 0, P(&nk), 0), E_FAULT);

  /* --- fds that are not maps of this guest --- */
  check_eq("badf.fd_0", lookup(0, &k, &v), E_BADF);
  check_eq("badf.fd_1", lookup(1, &k, &v), E_BADF);
  check_eq("badf.fd_2", lookup(2, &k, &v), E_BADF);
  check_eq("badf.fd_999", lookup(999, &k, &v), E_BADF);
  check_eq("badf.fd_minus_1", lookup(-1, &k, &v), E_BADF);
  check_eq("badf.fd_0_update", update(0, &k, &v, 0), E_BADF);
  {
    /* every other fd of the host process near ours (epoll, eventfds, files, BPF programs...) */
    int bad = 0, first_bad = 0;
    for (int fd = 3; fd <= maxfd + 16; fd++) {
      int mine = 0;
      for (int i = 0; i < nall; i++)
        if (all[i] == fd) mine = 1;
      if (mine) continue;
      int ret = lookup(fd, &k, &v);
      if (ret != E_BADF && !bad) {
        bad = 1;
        first_bad = fd;
        printf("info fd %d gave %d\n", fd, ret);
      }
    }
    check_eq("badf.all_other_host_fds", first_bad, 0);
  }

  /* --- a closed object's maps are gone --- */
  check_eq("close.second", wasm_close_bpf_object(h2), 0);
  check_eq("close.map_fd_of_closed_object", lookup(fd2_h, &k, &v), E_BADF);
  check_eq("close.other_object_unaffected", lookup(fd_h, &k, &v), 0);
  check_eq("close.first", wasm_close_bpf_object(h1), 0);
  check_eq("close.map_fd_after_close", lookup(fd_h, &k, &v), E_BADF);
  return finish();
}
