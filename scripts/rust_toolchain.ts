// Finding a Rust compiler that can build wasm-bpf guests (target wasm32-wasi), with no crates.
//
// On the machines scripts/setup.sh prepares, Debian's /usr/bin/rustc has the wasm32-wasi
// standard library (libstd-rust-dev-wasm32), while the `rustc` first on PATH is often rustup's
// (~/.cargo/bin) without wasm targets. So the choice is explicit: $WASM_BPF_RUSTC if set, else
// the first of /usr/bin/rustc and PATH's rustc whose sysroot has the target.

export const RUST_TARGET = "wasm32-wasi";
export const RUST_APT_HINT = "sudo apt-get install rustc libstd-rust-dev-wasm32";

/** Flags of every Rust guest: size over speed, no symbols or debug info, the table exported
 * (buffer callbacks are table indices), and no checkout path in the output. */
export function rustFlags(repo: string): string[] {
  return [
    "--edition",
    "2021",
    "--target",
    RUST_TARGET,
    "-C",
    "opt-level=s",
    "-C",
    "lto=fat", // with one codegen unit: std's unused parts go (111 -> 95 kB for bootstrap)
    "-C",
    "codegen-units=1",
    "-C",
    "debuginfo=0",
    "-C",
    "strip=symbols",
    "-C",
    "link-arg=--export-table",
    `--remap-path-prefix=${repo}=/wasm-bpf`,
  ];
}

function hasTarget(rustc: string): boolean {
  try {
    const o = new Deno.Command(rustc, {
      args: ["--print", "sysroot"],
      stdout: "piped",
      stderr: "null",
    })
      .outputSync();
    if (!o.success) return false;
    const sysroot = new TextDecoder().decode(o.stdout).trim();
    return Deno.statSync(`${sysroot}/lib/rustlib/${RUST_TARGET}/lib`).isDirectory;
  } catch {
    return false;
  }
}

/** The rustc to use, or an error message that says what was tried and how to fix it. */
export function findRustc(): { rustc: string } | { error: string } {
  const forced = Deno.env.get("WASM_BPF_RUSTC");
  if (forced) {
    return hasTarget(forced)
      ? { rustc: forced }
      : { error: `WASM_BPF_RUSTC=${forced} has no ${RUST_TARGET} target (or does not run)` };
  }
  const tried = ["/usr/bin/rustc", "rustc"];
  for (const c of tried) if (hasTarget(c)) return { rustc: c };
  return {
    error: `no Rust compiler with the ${RUST_TARGET} target (tried ${tried.join(", ")}; ` +
      `set WASM_BPF_RUSTC to choose one).\nInstall: ${RUST_APT_HINT}`,
  };
}
