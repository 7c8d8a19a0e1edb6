// Prints the Engine.IO v3 payloads the official server's v3 parser writes for a table of
// packet lists, one JSON line per case, for engineio/parser's tests. Packets are given as
// {type, data} with binary data as {hex}; payloads as hex.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
import { dirname, join } from "node:path";
const parser = require(join(dirname(require.resolve("engine.io")), "parser-v3", "index.js"));

const cases = {
  "one message": [{ type: "message", data: "hello" }],
  "several": [{ type: "open", data: '{"sid":"x"}' }, { type: "message", data: "2[\"ev\"]" }, { type: "ping" }, { type: "noop" }],
  "utf-16 lengths": [{ type: "message", data: "é€🎉x" }, { type: "message", data: "日本語" }],
  "empty message": [{ type: "message", data: "" }],
  "binary": [{ type: "message", data: "51-[\"b\",{\"_placeholder\":true,\"num\":0}]" }, { type: "message", data: { hex: "0102ff" } }],
  "only binary": [{ type: "message", data: { hex: "" } }, { type: "message", data: { hex: "00".repeat(300) } }],
  "long text": [{ type: "message", data: "x".repeat(1234) }, { type: "message", data: "€".repeat(10) }],
};
const toPacket = (p) => (p.data && p.data.hex !== undefined ? { type: p.type, data: Buffer.from(p.data.hex, "hex") } : p);
for (const [name, packets] of Object.entries(cases)) {
  const ps = packets.map(toPacket);
  let text, bin;
  parser.encodePayload(ps, false, (d) => { text = d; });
  parser.encodePayload(ps, true, (d) => { bin = d; });
  console.log(JSON.stringify({
    event: "case", name, packets,
    text: Buffer.from(text, "utf8").toString("hex"),
    binary: Buffer.isBuffer(bin) ? bin.toString("hex") : null,
  }));
}
