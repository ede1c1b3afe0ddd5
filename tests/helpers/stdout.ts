/**
 * Reading a guest's piped output until something appears in it, with a deadline: the one way
 * tests wait for a line such as "ready" before they act.
 */

/** Reads `stream` until `text` appears (a string, or a pattern that matches); returns
 * everything read so far, kept in `state.seen` across calls. The reader lock is released so
 * the caller can keep reading. Throws if the stream ends first, or after `timeoutMs`. */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  text: string | RegExp,
  state = { seen: "" },
  timeoutMs = 10_000,
): Promise<string> {
  const found = () => typeof text === "string" ? state.seen.includes(text) : text.test(state.seen);
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${text}":\n${state.seen}`));
    }, timeoutMs);
  });
  try {
    while (!found()) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`stdout ended before "${text}":\n${state.seen}`);
      state.seen += decoder.decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return state.seen;
}

/** The rest of `stream`, to its end (it may have been read from before). */
export async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) rest += chunk;
  return rest;
}
