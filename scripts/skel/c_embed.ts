// The BPF object embedded in the skeleton: the whole file as a writable byte array (the
// skeleton points the global-data structs into it, and the host loads these bytes as they are
// at load time, so a guest's writes to .rodata before load take effect), the file offsets of
// .rodata and .bss, and `NAME__elf_bytes()`.

import type { ObjectInfo } from "./analyze.ts";

/** The C name of the embedded object's bytes. */
export function dataArray(obj: string): string {
  return `${obj}__data`;
}

/** The C macro holding the file offset of `.rodata` or `.bss`. */
export function offsetMacro(obj: string, section: "RODATA" | "BSS"): string {
  return `${obj.toUpperCase()}__${section}_OFFSET`;
}

/** The object's bytes, the section offsets, and `NAME__elf_bytes()`. */
export function emitEmbeddedObject(obj: string, bytes: Uint8Array, info: ObjectInfo): string[] {
  const data = dataArray(obj);
  return [
    `/* The BPF object (${bytes.length} bytes).  Writable: the skeleton points rodata`,
    ` * into it, and the host loads these bytes as they are at load time. */`,
    `static unsigned char ${data}[${bytes.length}] __attribute__((aligned(8))) = {`,
    ...hexBytes(bytes),
    `};`,
    "",
    `#define ${offsetMacro(obj, "RODATA")} ${info.rodataOffset}`,
    `#define ${offsetMacro(obj, "BSS")} ${info.bssOffset}`,
    "",
    `static inline const void *${obj}__elf_bytes(size_t *sz)`,
    `{`,
    `    *sz = sizeof(${data});`,
    `    return ${data};`,
    `}`,
    "",
  ];
}

/** `bytes` as C initialiser rows of 16. */
function hexBytes(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(
      bytes.subarray(i, i + 16),
      (b) => `0x${b.toString(16).padStart(2, "0")}`,
    );
    lines.push(`    ${row.join(", ")},`);
  }
  return lines;
}
