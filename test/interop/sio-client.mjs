// Drives the official socket.io-client against a Go server under test (socketio/interop_test.go).
// SCENARIO picks what to do; every observation is printed as one JSON line.
import { io } from "socket.io-client";
// PARSER=msgpack makes the client speak socket.io-msgpack-parser.
const parser = process.env.PARSER === "msgpack" ? { parser: (await import("socket.io-msgpack-parser")).default } : {};

const url = process.env.URL;
const scenario = process.env.SCENARIO;
const transports = (process.env.TRANSPORTS || "polling,websocket").split(",");
const upgrade = process.env.UPGRADE !== "false";

const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), Number(process.env.DEADLINE_MS || 20000));
const finish = (code = 0) => { clearTimeout(deadline); setTimeout(() => process.exit(code), 50); };
const connect = (nsp = "/", opts = {}) => io(url + nsp, { transports, upgrade, reconnection: false, forceNew: true, ...parser, ...opts });
const bin = (b) => (b instanceof ArrayBuffer || ArrayBuffer.isView(b) ? { bin: Array.from(new Uint8Array(b.buffer ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b)) } : b);
const until = (socket, ev) => new Promise((resolve) => socket.once(ev, (...a) => resolve(a)));
const waitUpgrade = async (socket) => {
  if (!(upgrade && transports.length > 1) || socket.io.engine.transport.name === "websocket") return;
  await until(socket.io.engine, "upgrade");
};

async function events() {
  const s = connect();
  await until(s, "connect");
  out("connected", { id: s.id, transport: s.io.engine.transport.name });
  const deep = []; let cur = deep; for (let i = 0; i < 200; i++) { const n = []; cur.push(n); cur = n; }
  const values = [
    "héllo wörld €🎉 ✓ 日本語", 42, -1.5, true, false, null, { a: { b: [1, "x", null] } },
    [1, [2, [3]]], "x".repeat(500 * 1024), deep, "",
  ];
  for (const v of values) {
    const back = await s.emitWithAck("echo", v);
    out("echo", { ok: JSON.stringify(back) === JSON.stringify(v), len: JSON.stringify(v).length });
  }
  await waitUpgrade(s);
  // Several arguments, typed on the server.
  const sum = await s.emitWithAck("typed", { name: "ada", tags: ["a", "b"] }, 7);
  out("typed", { reply: sum });
  // A wrong shape for the typed handler: the server reports it, the client gets no answer.
  s.emit("typed", "not an object", "not a number");
  const [err] = await until(s, "handler-error");
  out("handler_error", { message: err });
  // Binary nested in objects and arrays, both ways.
  const payload = { file: new Uint8Array([1, 2, 3]), parts: [new Uint8Array([4]), new Uint8Array([250, 251])], name: "f" };
  const echoed = await s.emitWithAck("binary", payload);
  out("binary", { file: bin(echoed.file), parts: echoed.parts.map(bin), name: echoed.name });
  // The server emits binary on its own.
  s.emit("send-binary");
  const [pushed] = await until(s, "binary-push");
  out("binary_push", { data: bin(pushed.data), list: pushed.list.map(bin) });
  // Server-to-client emit with ack, and with a timeout the client lets pass.
  s.on("question", (n, cb) => cb(n * 2));
  s.on("ignored", () => {});
  s.emit("ask");
  const [answer] = await until(s, "answer");
  out("server_ack", { answer });
  s.emit("ask-ignored");
  const [timeoutResult] = await until(s, "ignored-result");
  out("server_ack_timeout", { result: timeoutResult });
  // The auth payload and the handshake as the server saw them.
  const who = await s.emitWithAck("whoami");
  out("whoami", { who, id: s.id });
  // Client-side ack timeout against a server that never answers.
  try { await s.timeout(200).emitWithAck("no-answer"); out("client_ack_timeout", { timedOut: false }); }
  catch (e) { out("client_ack_timeout", { timedOut: true }); }
  out("final", { transport: s.io.engine.transport.name });
  s.disconnect();
  finish();
}

async function namespaces() {
  const admin = connect("/admin");
  await until(admin, "connect");
  out("admin", { nsp: await admin.emitWithAck("nsp") });
  const team = connect("/team-42");
  await until(team, "connect");
  out("team", { nsp: await team.emitWithAck("nsp") });
  const bad = connect("/nope");
  const [e1] = await until(bad, "connect_error");
  out("invalid", { message: e1.message });
  const priv = connect("/private", { auth: { token: "wrong" } });
  const [e2] = await until(priv, "connect_error");
  out("refused", { message: e2.message, data: e2.data });
  const ok = connect("/private", { auth: { token: "secret" } });
  await until(ok, "connect");
  out("accepted", { id: ok.id });
  // Several namespaces multiplexed on one connection.
  const mgr = connect("/", { forceNew: true });
  await until(mgr, "connect");
  const sub = mgr.io.socket("/admin"); // connects by itself (autoConnect)
  await until(sub, "connect");
  out("multiplexed", { same: mgr.io.engine === sub.io.engine, nsp: await sub.emitWithAck("nsp") });
  for (const s of [admin, team, ok, mgr, sub]) s.disconnect();
  finish();
}

async function disconnects() {
  // Server-side namespace disconnect.
  const a = connect();
  await until(a, "connect");
  a.emit("disconnect-me");
  const [r1] = await until(a, "disconnect");
  out("server_disconnect", { reason: r1 });
  // Server-side disconnect that closes the connection.
  const b = connect();
  await until(b, "connect");
  b.emit("close-me");
  const [r2] = await until(b, "disconnect");
  out("server_close", { reason: r2 });
  // Client-side disconnect: the server records the reason.
  const c = connect();
  await until(c, "connect");
  out("client_id", { id: c.id });
  c.disconnect();
  // The server drops the transport: the client reconnects by itself.
  const d = connect("/", { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  await until(d, "connect");
  // Not during an upgrade: a client whose probe is cut after it paused polling waits for its
  // ping timeout before it notices (with the official server too).
  await waitUpgrade(d);
  const firstId = d.id;
  d.emit("drop-transport");
  const [r3] = await until(d, "disconnect");
  await until(d, "connect");
  out("reconnected", { reason: r3, newId: d.id !== firstId });
  const back = await d.emitWithAck("echo", "after reconnect");
  out("after_reconnect", { back });
  d.disconnect();
  finish();
}

// Binary values of every kind in every position, both ways, in events and acks.
async function binaries() {
  const s = connect();
  await until(s, "connect");
  const hex = (b) => Buffer.from(b instanceof ArrayBuffer ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).toString("hex");
  const kinds = {
    buffer: () => Buffer.from([1, 2, 3]),
    arraybuffer: () => new Uint8Array([4, 5]).buffer,
    uint8array: () => new Uint8Array([6, 0, 255]),
    uint16array: () => new Uint16Array([0x0102, 0xfffe]),
    float64array: () => new Float64Array([1.5]),
    empty: () => Buffer.alloc(0),
    large: () => Buffer.alloc(100000, 7),
  };
  for (const [kind, make] of Object.entries(kinds)) {
    const v = make();
    const want = hex(v);
    const [a, o, arr] = await new Promise((resolve) => s.emit("bin-positions", v, { inner: make(), list: [make(), make()] }, [[make()]], (...args) => resolve(args)));
    const got = [a, o.inner, o.list[0], o.list[1], arr[0][0]].map(hex);
    out("bin_positions", { kind, ok: got.every((g) => g === want), buffers: [a, o.inner, arr[0][0]].every((b) => Buffer.isBuffer(b)) });
  }
  await waitUpgrade(s);
  // The server asks with binary and the client answers with binary of two kinds.
  s.on("bin-question", (data, cb) => cb(Buffer.from(data).reverse(), new Uint8Array([9, 9]).buffer));
  s.emit("bin-ask");
  const [answer] = await until(s, "bin-answer");
  out("bin_server_ack", { answer });
  out("final", { transport: s.io.engine.transport.name });
  s.disconnect();
  finish();
}

// relay sends binary and look-alike strings through every raw path of the server and
// reports what comes back, each binary value with its JavaScript type.
async function relay() {
  const s = connect();
  await until(s, "connect");
  const payload = () => [Buffer.from([0, 1, 2, 255]), "AAEC/w==", { nested: Buffer.from([9, 8]), list: [Buffer.alloc(0), "s"] }];
  const typed = (v) => {
    if (Buffer.isBuffer(v)) return { Buffer: Array.from(v) };
    if (v instanceof ArrayBuffer) return { ArrayBuffer: Array.from(new Uint8Array(v)) };
    if (Array.isArray(v)) return v.map(typed);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typed(x)]));
    return v;
  };
  const got = {};
  const back = (ev) => until(s, ev).then((args) => { got[ev] = typed(args); });
  let p = back("raw"); s.emit("raw", ...payload()); await p;
  got.rawAck = typed(await new Promise((resolve) => s.emit("raw-ack", ...payload(), (...args) => resolve(args))));
  got.first = typed(await s.emitWithAck("first", ...payload()));
  p = back("any"); s.emit("any", ...payload()); await p;
  p = back("mw"); s.emit("mw", ...payload()); await p;
  s.on("give", (cb) => cb(...payload()));
  p = back("reply"); s.emit("ask"); await p;
  got.typedAny = typed(await s.emitWithAck("typed-any", payload()[2]));
  p = back("bcast"); s.emit("bcast", ...payload()); await p;
  await waitUpgrade(s);
  p = until(s, "raw"); s.emit("raw", ...payload()); await p.then((args) => { got.afterUpgrade = typed(args); });
  out("relayed", { got, transport: s.io.engine.transport.name });
  s.disconnect();
  finish();
}

const scenarios = { events, namespaces, disconnects, binaries, relay };
if (!scenarios[scenario]) fail("unknown scenario " + scenario);
scenarios[scenario]().catch((e) => fail(String(e && e.stack || e)));
