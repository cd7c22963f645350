// Reads a text/event-stream body (SSE over a POST, read with fetch) as its blocks: the text between blank lines, in
// order, as they arrive. A last block the stream ends inside of is dropped. Used by the app's playground and the widget.

export async function* eventStreamBlocks(body: NonNullable<Response['body']>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      yield block;
    }
  }
}
