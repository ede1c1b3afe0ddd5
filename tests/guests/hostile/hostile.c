// Host-ABI test guest: every wasm_bpf import with hostile arguments. The host must answer with
// the errnos of docs/abi.md §1 and never trap or crash. Prints ok/FAIL lines; exits 1 on FAIL.
#include <stdlib.h>
#include "../_common/host_abi.h"
#include "hostile.bpf.bytes.h"

static int sample_cb(void *ctx, void *data, int size) { return 0; }

int main(void) {
  uint32_t obj = P(hostile_bpf_o);
  int32_t len = (int32_t)hostile_bpf_o_len;

  /* --- handles: sequential from 1, never reused --- */
  int64_t h1 = wasm_load_bpf_object(obj, len);
  int64_t h2 = wasm_load_bpf_object(obj, len);
  check_eq("handle.first_is_1", h1, 1);
  check_eq("handle.second_is_2", h2, 2);
  check_eq("close.valid", wasm_close_bpf_object(h1), 0);
  int64_t h3 = wasm_load_bpf_object(obj, len);
  check_eq("handle.third_is_3_not_reused_1", h3, 3);
  if (h2 <= 0 || h3 <= 0) return finish();

  /* fresh page at the end of memory; its last 16 bytes are 'A's with no NUL after them */
  uint32_t page = grow_page();
  uint32_t end = mem_size();
  check_eq("memory.grown_page_is_last", page + PAGE, end);
  memset((void *)(uintptr_t)(end - 16), 'A', 16);
  uint32_t nonul = end - 16;

  /* --- close --- */
  check_eq("close.closed_handle", wasm_close_bpf_object(h1), E_INVAL);
  check_eq("close.handle_0", wasm_close_bpf_object(0), E_INVAL);
  check_eq("close.handle_999", wasm_close_bpf_object(999), E_INVAL);
  check_eq("close.handle_minus_1", wasm_close_bpf_object(-1), E_INVAL);
  check_eq("close.handle_2_pow_32_plus_2", wasm_close_bpf_object(0x100000002LL), E_INVAL);

  /* --- load: bad buffers give 0 --- */
  static unsigned char junk[64] = "definitely not an ELF object";
  check_eq("load.ptr_at_memory_size", wasm_load_bpf_object(end, 1), 0);
  check_eq("load.straddles_memory_end", wasm_load_bpf_object(end - 4, 8), 0);
  check_eq("load.ptr_plus_len_overflows_2_32", wasm_load_bpf_object(0xffffff00u, 0x200), 0);
  check_eq("load.len_negative", wasm_load_bpf_object(obj, -1), 0);
  check_eq("load.len_int_min", wasm_load_bpf_object(obj, (int32_t)0x80000000u), 0);
  check_eq("load.len_huge", wasm_load_bpf_object(obj, 0x7fffffff), 0);
  check_eq("load.len_0", wasm_load_bpf_object(obj, 0), 0);
  check_eq("load.junk", wasm_load_bpf_object(P(junk), sizeof junk), 0);
  check_eq("load.truncated_elf", wasm_load_bpf_object(obj, len / 2), 0);
  int64_t h4 = wasm_load_bpf_object(obj, len);
  check_true("load.after_failures_works_with_new_handle", h4 > 3, h4);

  /* --- attach --- */
  const char *prog = "on_getppid";
  check_eq("attach.handle_999", wasm_attach_bpf_program(999, P(prog), 0), E_INVAL);
  check_eq("attach.handle_0", wasm_attach_bpf_program(0, P(prog), 0), E_INVAL);
  check_eq("attach.closed_handle", wasm_attach_bpf_program(h1, P(prog), 0), E_INVAL);
  check_eq("attach.name_at_memory_size", wasm_attach_bpf_program(h2, end, 0), E_FAULT);
  check_eq("attach.name_ptr_ffffffff", wasm_attach_bpf_program(h2, 0xffffffffu, 0), E_FAULT);
  check_eq("attach.name_without_nul", wasm_attach_bpf_program(h2, nonul, 0), E_FAULT);
  check_eq("attach.target_at_memory_size", wasm_attach_bpf_program(h2, P(prog), end), E_FAULT);
  check_eq("attach.target_without_nul", wasm_attach_bpf_program(h2, P(prog), nonul), E_FAULT);
  check_eq("attach.unknown_program", wasm_attach_bpf_program(h2, P("no_such_prog"), 0), E_NOENT);
  check_eq("attach.empty_name", wasm_attach_bpf_program(h2, P(""), 0), E_NOENT);
  check_eq("attach.map_name_is_not_a_program", wasm_attach_bpf_program(h2, P("plain"), 0),
           E_NOENT);
  check_eq("attach.ok", wasm_attach_bpf_program(h2, P(prog), 0), 0);
  /* the kernel refuses a second link of one program to one tracepoint (bpf_prog_array_copy):
   * libbpf returns -EEXIST, and so must we */
  check_eq("attach.same_program_twice_is_eexist", wasm_attach_bpf_program(h2, P(prog), 0), -17);
  check_eq("attach.ok_with_ignored_target", wasm_attach_bpf_program(h3, P(prog), P("ignored")),
           0);
  {
    int r = wasm_attach_bpf_program(h2, P("xdp_pass"), P("no-such-if0"));
    printf("info xdp unknown interface -> %d\n", r);
    check_true("attach.xdp_unknown_interface_is_negative_errno", r < 0 && r > -4096, r);
    r = wasm_attach_bpf_program(h2, P("sockops_prog"), P("/no/such/cgroup"));
    printf("info sockops missing cgroup -> %d\n", r);
    check_true("attach.sockops_missing_cgroup_is_negative_errno", r < 0 && r > -4096, r);
  }

  /* --- map_fd_by_name --- */
  check_eq("fd_by_name.handle_999", wasm_bpf_map_fd_by_name(999, P("ring")), E_INVAL);
  check_eq("fd_by_name.handle_0", wasm_bpf_map_fd_by_name(0, P("ring")), E_INVAL);
  check_eq("fd_by_name.closed_handle", wasm_bpf_map_fd_by_name(h1, P("ring")), E_INVAL);
  check_eq("fd_by_name.name_at_memory_size", wasm_bpf_map_fd_by_name(h2, end), E_FAULT);
  check_eq("fd_by_name.name_ptr_fffffff0", wasm_bpf_map_fd_by_name(h2, 0xfffffff0u), E_FAULT);
  check_eq("fd_by_name.name_without_nul", wasm_bpf_map_fd_by_name(h2, nonul), E_FAULT);
  check_eq("fd_by_name.unknown_map", wasm_bpf_map_fd_by_name(h2, P("nope")), E_NOENT);
  check_eq("fd_by_name.empty_name", wasm_bpf_map_fd_by_name(h2, P("")), E_NOENT);
  check_eq("fd_by_name.program_name_is_not_a_map", wasm_bpf_map_fd_by_name(h2, P(prog)),
           E_NOENT);
  int fd_ring = wasm_bpf_map_fd_by_name(h2, P("ring"));
  int fd_plain = wasm_bpf_map_fd_by_name(h2, P("plain"));
  int fd3_ring = wasm_bpf_map_fd_by_name(h3, P("ring"));
  check_true("fd_by_name.ring", fd_ring > 2, fd_ring);
  check_true("fd_by_name.plain", fd_plain > 2, fd_plain);

  /* --- map_operate --- */
  uint32_t k = 1;
  uint64_t v = 0;
  check_eq("map.cmd_0", wasm_bpf_map_operate(fd_plain, 0, P(&k), P(&v), 0, 0), E_INVAL);
  check_eq("map.cmd_5", wasm_bpf_map_operate(fd_plain, 5, P(&k), P(&v), 0, 0), E_INVAL);
  check_eq("map.cmd_minus_1", wasm_bpf_map_operate(fd_plain, -1, P(&k), P(&v), 0, 0), E_INVAL);
  check_eq("map.cmd_1000", wasm_bpf_map_operate(fd_plain, 1000, P(&k), P(&v), 0, 0), E_INVAL);
  check_eq("map.fd_999", wasm_bpf_map_operate(999, CMD_LOOKUP, P(&k), P(&v), 0, 0), E_BADF);
  check_eq("map.fd_0", wasm_bpf_map_operate(0, CMD_LOOKUP, P(&k), P(&v), 0, 0), E_BADF);
  check_eq("map.key_at_memory_size", wasm_bpf_map_operate(fd_plain, CMD_LOOKUP, end, P(&v), 0, 0),
           E_FAULT);
  check_eq("map.key_ptr_ffffffff",
           wasm_bpf_map_operate(fd_plain, CMD_UPDATE, 0xffffffffu, P(&v), 0, 0), E_FAULT);
  check_eq("map.value_wraps_2_32",
           wasm_bpf_map_operate(fd_plain, CMD_UPDATE, P(&k), 0xfffffffcu, 0, 0), E_FAULT);
  check_eq("map.value_straddles_end",
           wasm_bpf_map_operate(fd_plain, CMD_LOOKUP, P(&k), end - 4, 0, 0), E_FAULT);
  check_eq("map.next_key_out_ptr_at_end",
           wasm_bpf_map_operate(fd_plain, CMD_NEXT_KEY, 0, 0, end, 0), E_FAULT);
  check_eq("map.valid_update_still_works",
           wasm_bpf_map_operate(fd_plain, CMD_UPDATE, P(&k), P(&v), 0, 0), 0);
  check_eq("map.lookup_on_ringbuf_is_kernel_errno",
           wasm_bpf_map_operate(fd_ring, CMD_LOOKUP, P(&k), P(&v), 0, 0) < 0, 1);

  /* --- buffer_poll --- */
  int cb = (int)(uintptr_t)&sample_cb;
  static unsigned char data[64];
  check_eq("poll.handle_999", wasm_bpf_buffer_poll(999, fd_ring, cb, 0, P(data), 64, 0), E_INVAL);
  check_eq("poll.handle_0", wasm_bpf_buffer_poll(0, fd_ring, cb, 0, P(data), 64, 0), E_INVAL);
  check_eq("poll.closed_handle", wasm_bpf_buffer_poll(h1, fd_ring, cb, 0, P(data), 64, 0),
           E_INVAL);
  check_eq("poll.non_buffer_map", wasm_bpf_buffer_poll(h2, fd_plain, cb, 0, P(data), 64, 0),
           E_INVAL);
  {
    int r = wasm_bpf_buffer_poll(h2, 999, cb, 0, P(data), 64, 0);
    printf("info poll fd 999 -> %d\n", r);
    check_true("poll.fd_999_is_einval_or_ebadf", r == E_INVAL || r == E_BADF, r);
    r = wasm_bpf_buffer_poll(h2, 1, cb, 0, P(data), 64, 0);
    printf("info poll fd 1 -> %d\n", r);
    check_true("poll.fd_1_is_einval_or_ebadf", r == E_INVAL || r == E_BADF, r);
    r = wasm_bpf_buffer_poll(h2, fd3_ring, cb, 0, P(data), 64, 0);
    printf("info poll other object's ring -> %d\n", r);
    check_true("poll.other_objects_ring_is_einval_or_ebadf", r == E_INVAL || r == E_BADF, r);
  }
  check_eq("poll.data_straddles_end", wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, end - 10, 64, 0),
           E_FAULT);
  check_eq("poll.data_at_memory_size", wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, end, 1, 0),
           E_FAULT);
  check_eq("poll.data_wraps_2_32",
           wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, 0xfffffff0u, 64, 0), E_FAULT);
  check_eq("poll.max_size_negative", wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, P(data), -1, 0),
           E_FAULT);
  check_eq("poll.ring_ok_nothing_pending",
           wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, P(data), 64, 0), 0);
  check_eq("poll.ring_ok_again", wasm_bpf_buffer_poll(h2, fd_ring, cb, 0, P(data), 64, 1), 0);
  {
    int r = wasm_bpf_buffer_poll(h2, fd_ring, 99999, 0, P(data), 64, 0);
    printf("info poll bad sample_func with nothing pending -> %d\n", r);
    check_true("poll.bad_sample_func_no_crash", r == 0 || r == E_INVAL, r);
  }

  /* --- everything still works, and closes cleanly --- */
  k = 1;
  check_eq("after.lookup", wasm_bpf_map_operate(fd_plain, CMD_LOOKUP, P(&k), P(&v), 0, 0), 0);
  check_eq("after.close_2", wasm_close_bpf_object(h2), 0);
  check_eq("after.close_3", wasm_close_bpf_object(h3), 0);
  check_eq("after.close_4", wasm_close_bpf_object(h4), 0);
  check_eq("after.close_2_again", wasm_close_bpf_object(h2), E_INVAL);
  check_eq("after.map_fd_of_closed_object", wasm_bpf_map_operate(fd_plain, CMD_LOOKUP, P(&k),
                                                                 P(&v), 0, 0),
           E_BADF);
  int64_t h5 = wasm_load_bpf_object(obj, len);
  check_true("after.next_handle_is_new", h5 > h4, h5);
  /* left open and attached on purpose: the host must detach and close it at exit */
  check_true("after.attach_on_new", wasm_attach_bpf_program(h5, P(prog), 0) == 0, h5);
  return finish();
}
