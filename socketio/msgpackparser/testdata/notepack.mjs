// Prints the bytes socket.io-msgpack-parser 3 (notepack.io 2.2) writes for a table of packets,
// with the JSON form the Go package must decode them to, one JSON line per case. Cases marked
// decodeOnly hold values the Go encoder writes in another form (it writes every binary value
// as bin, as notepack.io writes a Buffer) and are checked in the decoding direction only.
// Run by socketio/msgpackparser's tests; `node socketio/msgpackparser/testdata/notepack.mjs`
// shows the table.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Encoder } = require("socket.io-msgpack-parser");
// The notepack.io the parser uses, and the newer one (3.x) that reads timestamps.
const parserNotepack = createRequire(require.resolve("socket.io-msgpack-parser"))("notepack.io");
const notepack = require("notepack.io");

const enc = new Encoder();
const hex = (b) => Buffer.from(b).toString("hex");
const isBin = (v) => Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);

// toGo turns data into the Go package's JSON form: binary values become placeholders.
function toGo(data) {
  const atts = [];
  const walk = (v) => {
    if (isBin(v)) {
      atts.push(hex(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      return { _placeholder: true, num: atts.length - 1 };
    }
    if (v instanceof Date) return v.toJSON();
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const o = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = walk(x);
      return o;
    }
    return v;
  };
  const json = data === undefined ? undefined : JSON.stringify(walk(data));
  return { json, atts };
}

const out = (name, packet, fields = {}) => {
  const [bytes] = enc.encode(packet);
  const { json, atts } = toGo(packet.data);
  console.log(JSON.stringify({ event: "case", name, hex: hex(bytes), type: packet.type, nsp: packet.nsp, id: packet.id, json, atts, ...fields }));
};
const ev = (name, data, extra = {}) => out(name, { type: 2, data, ...extra, nsp: "/" });

const u8 = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * seed) & 0xff);

ev("ints", ["ints", 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2 ** 53 - 1,
  -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -(2 ** 53 - 1)]);
ev("floats", ["floats", 1.5, -0.25, 1e-7, 3.141592653589793, -1e-300, 1.2345e-250, 0.1, 123456.789]);
ev("strings", ["strings", "", "a", "x".repeat(31), "x".repeat(32), "é".repeat(127), "y".repeat(255),
  "z".repeat(256), "€".repeat(21845), "w".repeat(65536), "héllo wörld €🎉 ✓ 日本語", "quote\"back\\slash\nnl\u0001"]);
ev("literals", ["literals", null, true, false]);
ev("containers", ["containers", [], {}, Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => i),
  Array.from({ length: 70000 }, () => 0), Object.fromEntries(Array.from({ length: 16 }, (_, i) => ["k" + i, i])),
  { a: { b: [1, "x", null, { c: [] }] } }]);
ev("buffer", ["buffer", Buffer.from([1, 2, 3])]);
const evExt = (name, data) => out(name, { type: 2, data, nsp: "/" }, { decodeOnly: true });
evExt("arraybuffer", ["arraybuffer", u8(4).buffer]);
evExt("typed arrays", ["typed", new Uint8Array([9, 8]), new Uint16Array([1, 2]), new Float32Array([1.5]), new Int8Array([-1])]);
evExt("ext 0 sizes", ["sizes", u8(0), u8(255), u8(256, 3), u8(65535, 5), u8(65536, 7)]);
ev("bin sizes", ["sizes", Buffer.alloc(0), Buffer.from(u8(255)), Buffer.from(u8(256, 3)), Buffer.from(u8(65535, 5)), Buffer.from(u8(65536, 7))]);
ev("binary everywhere", ["nested", { file: Buffer.from([1]), parts: [Buffer.from([2]), { deep: [Buffer.from([3, 4])] }] }, Buffer.from([5])]);
ev("number event name", [42, "x"]);
ev("event with ack id", ["ask", 1], { id: 12 });
ev("large ack id", ["ask"], { id: 2 ** 53 - 1 });
out("ack", { type: 3, data: [null, "ok"], id: 7, nsp: "/chat" });
out("binary ack", { type: 3, data: [Buffer.from([0xff, 0])], id: 0, nsp: "/" });
out("connect", { type: 0, nsp: "/" });
out("connect with auth", { type: 0, data: { token: "abc", pid: "p", offset: "1-0" }, nsp: "/admin" });
out("connect reply", { type: 0, data: { sid: "AbCd" }, nsp: "/" });
out("disconnect", { type: 1, nsp: "/ns" });
out("connect error object", { type: 4, data: { message: "nope", data: { code: 1 } }, nsp: "/" });
out("connect error string", { type: 4, data: "Invalid namespace", nsp: "/x" });
// Values notepack.io writes in ways the JSON form cannot return to byte for byte.
const dec = (name, packet) => out(name, packet, { decodeOnly: true });
dec("date", { type: 2, data: ["date", new Date(0), new Date(1700000000123), new Date(-1)], nsp: "/" });
dec("undefined member", { type: 2, data: ["u", { a: undefined, b: 1 }, undefined], nsp: "/" });
dec("float32 from msgpack", { type: 2, data: ["f32"], nsp: "/" });
// Hand-written MessagePack that notepack.io reads: ext 0 as ArrayBuffer, undefined, old dates,
// float 32, other extension types, integer keys.
const raw = (name, bytes, reader = parserNotepack) => {
  const v = reader.decode(Buffer.from(bytes));
  const { json, atts } = toGo(v.data);
  console.log(JSON.stringify({ event: "case", name, hex: hex(bytes), type: v.type, nsp: v.nsp, id: v.id, json, atts, decodeOnly: true }));
};
const head = [0x83, 0xa4, ...Buffer.from("type"), 0x02, 0xa3, ...Buffer.from("nsp"), 0xa1, 0x2f, 0xa4, ...Buffer.from("data")];
raw("ext 0 as arraybuffer", [...head, 0x92, 0xa1, 0x65, 0xc7, 0x03, 0x00, 1, 2, 3]);
raw("ext 16 and 32 as arraybuffer", [...head, 0x93, 0xa1, 0x65, 0xc8, 0x00, 0x01, 0x00, 7, 0xc9, 0, 0, 0, 2, 0x00, 8, 9]);
raw("fixext undefined in array", [...head, 0x92, 0xa1, 0x65, 0xd4, 0x00, 0x00]);
raw("float 32", [...head, 0x92, 0xa1, 0x65, 0xca, 0x3f, 0xc0, 0x00, 0x00]);
raw("old date", [...head, 0x92, 0xa1, 0x65, 0xd7, 0x00, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
raw("timestamp 96", [...head, 0x92, 0xa1, 0x65, 0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], notepack);
raw("timestamp 64", [...head, 0x92, 0xa1, 0x65, 0xd7, 0xff, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1], notepack);
raw("int keys", [...head, 0x92, 0xa1, 0x65, 0x82, 0x01, 0xa1, 0x61, 0xd0, 0xfe, 0xc3]);
raw("key order of the map", [0x84, 0xa3, ...Buffer.from("nsp"), 0xa2, 0x2f, 0x61, 0xa2, ...Buffer.from("id"), 0x05, 0xa4, ...Buffer.from("data"), 0x91, 0xa1, 0x65, 0xa4, ...Buffer.from("type"), 0x02]);
raw("int 64", [...head, 0x93, 0xa1, 0x65, 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
