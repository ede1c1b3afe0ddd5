// Test guest of libbpf-wasm.h's attach setters (tests/header_attach_setters_test.ts), after
// upstream's SDK test: which import bpf_object__attach_skeleton() calls, with what target, and
// how it returns the result. The test supplies the wasm_bpf imports and records every call;
// this guest checks the return values and exits with the number of the first check that failed.
#include <errno.h>
#include "libbpf-wasm.h"

static int attach(struct bpf_program *program)
{
    struct bpf_program *program_ptr = program;
    struct bpf_prog_skeleton prog_skel = { .name = "test_program", .prog = &program_ptr };
    char data = 0;
    struct bpf_object_skeleton s = {
        .data = &data,
        .data_sz = 1,
        .obj = 7,
        .prog_cnt = 1,
        .prog_skel_sz = sizeof(prog_skel),
        .progs = &prog_skel,
    };
    return bpf_object__attach_skeleton(&s);
}

int main(void)
{
    struct bpf_program program = { .name = "test_program" }; /* the rest zero */
    char path[] = "/legacy/path", empty[] = "", failing[] = "/fails-with-eexist";

    if (attach(&program) != 0) /* no setter called: by path, no target */
        return 1;
    bpf_set_prog_attach_target(&program, path);
    if (attach(&program) != 0)
        return 2;
    bpf_set_prog_attach_target_fd(&program, 0); /* fd 0 is a descriptor like another */
    if (attach(&program) != 0)
        return 3;
    bpf_set_prog_attach_target_fd(&program, -1); /* auto-attach, by the fd import */
    if (attach(&program) != 0)
        return 4;
    bpf_set_prog_attach_target_fd(&program, 8);
    bpf_set_prog_attach_target(&program, path); /* the last setter wins */
    if (attach(&program) != 0)
        return 5;
    bpf_set_prog_attach_target_fd(&program, 8);
    bpf_set_prog_attach_target(&program, empty); /* back to the path form, no target */
    if (attach(&program) != 0)
        return 6;
    bpf_set_prog_attach_target(&program, path);
    bpf_set_prog_attach_target_fd(&program, 9);
    if (attach(&program) != 0)
        return 7;
    /* the host's Linux errno comes back in the guest libc's numbering, and in errno */
    bpf_set_prog_attach_target_fd(&program, 3); /* the test's host returns -22 (EINVAL) */
    if (attach(&program) != -EINVAL || errno != EINVAL)
        return 8;
    bpf_set_prog_attach_target(&program, failing); /* the test's host returns -17 (EEXIST) */
    if (attach(&program) != -EEXIST || errno != EEXIST)
        return 9;
    program.obj_ptr = 7; /* bpf_program__attach_wasm takes the same two paths */
    bpf_set_prog_attach_target_fd(&program, 5);
    if (bpf_program__attach_wasm(&program) != 0)
        return 10;
    return 0;
}
