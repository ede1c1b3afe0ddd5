#!/usr/bin/env bash
# Installs everything wasm-bpf needs on a fresh Debian 12 machine, as root:
# Deno (from npm, pinned), libbpf and bpftool, the guest toolchains (clang + wasi-libc, Debian's
# rustc with the wasm32-wasi std), the
# native libbpf-tools for comparison, and the tracefs and bpffs mounts. Safe to run again.
set -euo pipefail

DENO_VERSION=2.9.6
APT_PACKAGES=(
  libbpf1 libbpf-dev bpftool libbpf-tools              # the host's libbpf, tests, native runqlat
  clang lld llvm wasi-libc libclang-rt-dev-wasm32       # building BPF objects and wasm guests
  rustc libstd-rust-dev-wasm32                          # Rust guests (/usr/bin/rustc, wasm32-wasi std)
  iproute2 iputils-ping strace                          # network examples' tests; the WASI fallback test
  docker-registry apache2-utils                         # a local OCI registry (deno task registry, tests); htpasswd
)

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run it as root (sudo bash scripts/setup.sh)" >&2
  exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The package enables a system registry on :5000 (with an htpasswd path that is a directory);
# `deno task registry` runs its own there instead, as the user who needs it.
if command -v systemctl >/dev/null && systemctl is-enabled docker-registry >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

if ! command -v deno >/dev/null || [ "$(deno --version | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "setup.sh: installing deno $DENO_VERSION from npm"
  npm install -g --silent "deno@$DENO_VERSION" >/dev/null
fi

if ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs tracefs /sys/kernel/tracing
fi
# Guests that pin maps (LIBBPF_PIN_BY_NAME) need a BPF filesystem for their private pin directory.
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
  echo "setup.sh: warning: /sys/kernel/btf/vmlinux is missing: CO-RE programs will not load" >&2
fi
# The CLI bundled into one module: `deno task run` starts ~20 ms faster from it (cli.ts).
# Without it (deno bundle fetches esbuild from npm once) the CLI still starts, from its sources.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! (cd "$ROOT" && deno run --allow-read --allow-write --allow-run --allow-env scripts/bundle.ts); then
  echo "setup.sh: warning: the CLI was not bundled; deno task run starts from the sources" >&2
fi
echo "setup.sh: ready ($(deno --version | head -1), libbpf $(dpkg-query -W -f='${Version}' libbpf1))"
