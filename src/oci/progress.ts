/** A download's progress line on stderr: only when stderr is a terminal, and only once the
 * download has taken more than a second (fast pulls print nothing). */

const DELAY_MS = 1000;
const EVERY_MS = 100;

/** A reporter for one download named `label`; call `done()` at the end, whatever happens. */
export function progressLine(label: string): {
  onProgress: (received: number, total: number) => void;
  done: () => void;
} {
  const start = Date.now();
  let shown = false;
  let last = 0;
  const write = (text: string) => {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(text));
    } catch { /* stderr closed */ }
  };
  if (!Deno.stderr.isTerminal()) return { onProgress() {}, done() {} };
  return {
    onProgress(received, total) {
      const now = Date.now();
      if (now - start < DELAY_MS || now - last < EVERY_MS) return;
      last = now;
      shown = true;
      const pct = total > 0 ? ` ${Math.floor(received * 100 / total)}%` : "";
      write(`\r\x1b[Kwasm-bpf: pulling ${label}: ${(received / 1024).toFixed(0)} KiB${pct}`);
    },
    done() {
      if (shown) write("\r\x1b[K");
    },
  };
}
