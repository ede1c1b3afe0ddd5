#!/bin/sh
# Builds the host-ABI test guests (tests/guests/{maps,perfbuf,tinygo,hostile,stop}) with the same
# convention as scripts/build_guests.ts (`deno task examples`), for use until/without it:
#   NAME.bpf.c -> NAME.bpf.o (clang -O2 -g -target bpf, then llvm-strip -g)
#              -> NAME.bpf.bytes.h (xxd -i: NAME_bpf_o[], NAME_bpf_o_len)
#   other *.c  -> *.wasm (clang --target=wasm32-wasi -O2 -I<dir> -Wl,--export-table, plus the flags
#                 of a "// build: <flags>" comment in the first lines; "// build-no-table" drops
#                 --export-table)
# Usage: tests/guests/build_host_guests.sh [dir...]   (default: all five)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang}
STRIP=${LLVM_STRIP:-llvm-strip}
DIRS=${*:-maps perfbuf tinygo hostile stop}
for d in $DIRS; do
  dir="$HERE/$d"
  [ -d "$dir" ] || { echo "no such guest dir: $dir" >&2; exit 1; }
  cd "$dir"
  for src in *.bpf.c; do
    [ -e "$src" ] || continue
    name=${src%.bpf.c}
    "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -I"$dir" \
      -c "$src" -o "$name.bpf.o"
    "$STRIP" -g "$name.bpf.o"
    xxd -i "$name.bpf.o" > "$name.bpf.bytes.h"
    echo "built $d/$name.bpf.o"
  done
  for src in *.c; do
    case "$src" in *.bpf.c) continue ;; esac
    head=$(head -n 5 "$src")
    flags=$(printf '%s\n' "$head" | sed -n 's|^// build: *||p' | head -n 1)
    table=-Wl,--export-table
    if printf '%s\n' "$head" | grep -q '^// build-no-table'; then table=; fi
    # shellcheck disable=SC2086
    "$CLANG" --target=wasm32-wasi -O2 -I"$dir" $table $flags "$src" -o "${src%.c}.wasm"
    echo "built $d/${src%.c}.wasm"
  done
done
