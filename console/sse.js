/**
 * Server-Sent Events over fetch: EventSource cannot send an Authorization header. The parsing
 * follows the HTML standard's event-stream rules: lines end in CRLF, LF or CR; `:` starts a
 * comment; `data` lines join with LF; a blank line dispatches; `id` is kept for Last-Event-ID.
 */

/** Splits a stream of text into lines, whatever their line ending. */
async function* linesOf(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    for (;;) {
      const end = buffer.search(/\r\n|\r|\n/);
      // A CR at the very end may be the first half of a CRLF still to come.
      if (end < 0 || (end === buffer.length - 1 && buffer[end] === "\r")) break;
      const width = buffer.startsWith("\r\n", end) ? 2 : 1;
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + width);
    }
  }
}

/** The events of an SSE response body, each `{ type, data, id }`; ends with the stream. */
export async function* readEvents(body) {
  let type = "";
  let data = [];
  let id;
  for await (const line of linesOf(body)) {
    if (line === "") {
      if (data.length > 0) yield { type: type || "message", data: data.join("\n"), id };
      type = "";
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
  }
}
