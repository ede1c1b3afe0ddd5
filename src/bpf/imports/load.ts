/**
 * `wasm_load_bpf_object(obj_buf, obj_buf_sz) -> i64`: open and load; a handle or 0.
 *
 * The object bytes come from a guest, so they are hostile: libbpf parses them (open), the
 * policy inspects the programs they declare, and only then does the kernel see them (load).
 * A failure is invisible to the guest beyond the 0 handle, so the host says why on stderr.
 */

import { errnoName, LinuxErrno } from "../../ffi/errno.ts";
import {
  getLibbpf,
  libbpfFailureMessage,
  libbpfStrerror,
  ptrErr,
  takeRecentLibbpfMessages,
} from "../../ffi/libbpf_ffi.ts";
import { releaseFreedHeap } from "../../ffi/libc_ffi.ts";
import type { HostContext } from "../context.ts";
import { missingBpfPrivilege } from "../privileges.ts";
import { checkBpfObject } from "../../guest/object_check.ts";
import { fdBudgetRefusal, fdsNeededBy } from "../fd_budget.ts";
import {
  logRefusal,
  objectCountRefusal,
  programTypeName,
  programTypeRefusal,
} from "../../guest/policy.ts";

/** The most a guest may hand us as one object (a sanity limit, far above real objects). */
export const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/** The kind of the error lines of this import, rate-limited per run (log_limit.ts). */
const LOAD_ERRORS = "wasm_load_bpf_object errors";

/** How many lines of the verifier log a failure shows without -v. */
const VERIFIER_TAIL_LINES = 4;
/** How many lines of libbpf's other messages a failure shows. */
const LIBBPF_TAIL_LINES = 6;

export function makeLoad(ctx: HostContext): (objBuf: number, objBufSize: number) => bigint {
  return (objBuf, objBufSize) => {
    const memory = ctx.memory;
    if (objBufSize <= 0 || objBufSize > MAX_OBJECT_BYTES || !memory.inBounds(objBuf, objBufSize)) {
      ctx.log.debug(`wasm_load_bpf_object: bad buffer (${objBuf >>> 0}, ${objBufSize}): EFAULT`);
      return 0n;
    }
    const tooMany = objectCountRefusal(ctx.policy, ctx.objects.size);
    if (tooMany) {
      logRefusal(ctx.log, "load", tooMany);
      return 0n;
    }
    // Copy at call time: the guest patched .rodata in place in these bytes just before.
    const bytes = memory.copyOut(objBuf, objBufSize);
    // libbpf 1.1 crashes on some malformed objects: check their structure first.
    const malformed = checkBpfObject(bytes);
    if (malformed) {
      ctx.log.error(
        LOAD_ERRORS,
        `wasm_load_bpf_object: not a valid BPF object (LIBBPF_ERRNO__FORMAT): ${malformed}`,
      );
      return 0n;
    }
    const lib = getLibbpf();
    takeRecentLibbpfMessages();
    const pins = ctx.objects.pins;
    const obj = lib.bpf_object__open_mem(bytes, BigInt(bytes.length), pins.openOptions.pointer);
    if (obj === null) {
      reportFailure(ctx, "bpf_object__open_mem", -ptrErr(obj));
      return 0n;
    }
    const refusal = programTypesRefusal(ctx, obj);
    if (refusal) {
      lib.bpf_object__close(obj);
      logRefusal(ctx.log, "program type", refusal);
      return 0n; // -EPERM: the guest only sees 0
    }
    // Before the kernel sees it: the object's fds must leave the host the fds it needs.
    const noFds = fdBudgetRefusal(fdsNeededBy(obj));
    if (noFds) {
      lib.bpf_object__close(obj);
      logRefusal(ctx.log, "load", `refused to load a BPF object: ${noFds}`);
      return 0n;
    }
    // Pinned maps: their names must not make a path out of the pin root (libbpf builds
    // `<root>/<name>` at open, and uses it at load).
    const pinning = pins.prepare(obj);
    if ("refusal" in pinning) {
      lib.bpf_object__close(obj);
      logRefusal(ctx.log, "load", `refused to load a BPF object: ${pinning.refusal}`);
      return 0n;
    }
    const ret = lib.bpf_object__load(obj);
    if (ret < 0) {
      const hint = -ret === LinuxErrno.EPERM ? privilegedEpermHint(obj) : undefined;
      lib.bpf_object__close(obj);
      reportFailure(ctx, "bpf_object__load", -ret, hint);
      return 0n;
    }
    releaseFreedHeap(); // what libbpf freed after the load (its parse of the kernel's BTF)
    pins.loaded(pinning.fresh);
    const loaded = ctx.objects.add(obj);
    ctx.log.debug(
      `loaded BPF object ${loaded.handle}: maps ${loaded.maps.map((m) => m.name).join(", ")}`,
    );
    return loaded.handle;
  };
}

/** The refusal message for the first program of `obj` whose type the policy does not allow,
 * or null. Runs between open and load: nothing has reached the kernel yet. */
function programTypesRefusal(ctx: HostContext, obj: Deno.PointerObject): string | null {
  if (!ctx.policy.allowProgramTypes) return null;
  const lib = getLibbpf();
  for (
    let prog = lib.bpf_object__next_program(obj, null);
    prog !== null;
    prog = lib.bpf_object__next_program(obj, prog)
  ) {
    const type = lib.bpf_program__type(prog);
    const namePtr = lib.libbpf_bpf_prog_type_str(type);
    const typeName = programTypeName(
      type,
      namePtr === null ? null : Deno.UnsafePointerView.getCString(namePtr),
    );
    const refusal = programTypeRefusal(
      ctx.policy,
      cStringAt(lib.bpf_program__name(prog)),
      cStringAt(lib.bpf_program__section_name(prog)),
      typeName,
    );
    if (refusal) return refusal;
  }
  return null;
}

/** EPERM while this process has the privileges to load BPF is not a privilege problem: say
 * what it more likely is, from the object's program sections. undefined: the usual hint. */
function privilegedEpermHint(obj: Deno.PointerObject): string | undefined {
  if (missingBpfPrivilege() !== undefined) return undefined;
  const lib = getLibbpf();
  const sections: string[] = [];
  for (
    let prog = lib.bpf_object__next_program(obj, null);
    prog !== null;
    prog = lib.bpf_object__next_program(obj, prog)
  ) sections.push(cStringAt(lib.bpf_program__section_name(prog)));
  if (sections.some((s) => s.startsWith("lsm"))) {
    return "the BPF LSM is not active on this kernel (it needs lsm=...,bpf on the kernel " +
      "command line)";
  }
  if (sections.some((s) => /^(fentry|fexit|fmod_ret|freplace)\b/.test(s))) {
    return "this kernel refuses fentry/fexit programs to this process even as root " +
      "(kernel lockdown or a missing BPF trampoline)";
  }
  return "the process has the privileges, so the kernel refused this program itself " +
    "(kernel lockdown, or a program type or helper it does not allow)";
}

function cStringAt(p: Deno.PointerValue): string {
  return p === null ? "?" : Deno.UnsafePointerView.getCString(p);
}

/** A verifier log cut out of libbpf's messages, with the program it is about. */
export interface VerifierLog {
  program: string;
  lines: string[];
}

/** Splits libbpf's recent messages (some of them many lines long) into the verifier log, if
 * any, and libbpf's other lines. */
export function splitLibbpfMessages(
  messages: string[],
): { verifier: VerifierLog | null; other: string[] } {
  const lines = messages.flatMap((m) => m.split("\n")).filter((l) => l.trim() !== "");
  let verifier: VerifierLog | null = null;
  const other: string[] = [];
  let inLog = false;
  for (const line of lines) {
    const begin = line.match(/prog '([^']*)': -- BEGIN PROG LOAD LOG --/);
    if (begin) {
      inLog = true;
      verifier = { program: begin[1], lines: [] };
      continue;
    }
    if (inLog && line.includes("-- END PROG LOAD LOG --")) {
      inLog = false;
      continue;
    }
    if (inLog) verifier!.lines.push(line);
    else other.push(line);
  }
  return { verifier, other };
}

/** Says on stderr why a load failed: the error by name, and either the verifier's verdict
 * (the last lines of its log; the whole log is shown with -v, by libbpf's own logging) or the
 * last lines libbpf logged. */
function reportFailure(ctx: HostContext, op: string, errno: number, hint?: string): void {
  const { verifier, other } = splitLibbpfMessages(takeRecentLibbpfMessages());
  if (verifier && verifier.lines.length > 0) {
    const code = Math.abs(errno);
    const tail = verifier.lines.slice(-VERIFIER_TAIL_LINES).map((l) => `  ${l}`).join("\n");
    ctx.log.error(
      LOAD_ERRORS,
      `wasm_load_bpf_object: the kernel verifier rejected program "${verifier.program}" ` +
        `(${op}: ${errnoName(code)}, ${libbpfStrerror(code)}); the end of its log ` +
        `(all of it with -v):\n${tail}`,
    );
    return;
  }
  // A permission error with no verifier log is a privilege problem: the message's hint says so.
  const message = libbpfFailureMessage(op, errno, hint);
  const tail = other.slice(-LIBBPF_TAIL_LINES).map((l) => `  ${l}`).join("\n");
  ctx.log.error(LOAD_ERRORS, `wasm_load_bpf_object: ${message}${tail ? `\n${tail}` : ""}`);
}
