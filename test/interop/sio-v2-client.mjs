// Drives socket.io-client 2.x (Engine.IO v3, Socket.IO protocol v4) against a Go server with
// AllowEIO3 (socketio/v3_interop_test.go), with a socket.io-client 4.x client on the same
// server. SCENARIO picks what to do; every observation is printed as one JSON line.
import ioV2 from "socket.io-client-v2";
import { io as ioV4 } from "socket.io-client";

const url = process.env.URL;
const scenario = process.env.SCENARIO;
const transports = (process.env.TRANSPORTS || "polling,websocket").split(",");
const upgrade = process.env.UPGRADE !== "false";

const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), Number(process.env.DEADLINE_MS || 30000));
const finish = (code = 0) => { clearTimeout(deadline); setTimeout(() => process.exit(code), 50); };
const connect = (nsp = "/", opts = {}) => ioV2(url + nsp, { transports, upgrade, reconnection: false, forceNew: true, ...opts });
const until = (socket, ev) => new Promise((resolve) => socket.once(ev, (...a) => resolve(a)));
const ask = (socket, ev, ...args) => new Promise((resolve) => socket.emit(ev, ...args, (...r) => resolve(r)));
const hex = (b) => (Buffer.isBuffer(b) ? { hex: b.toString("hex") } : b);
const waitUpgrade = async (socket) => {
  if (!(upgrade && transports.length > 1) || socket.io.engine.transport.name === "websocket") return;
  await until(socket.io.engine, "upgrade");
};

async function events() {
  const s = connect();
  // The transport the session opened on: by the time of "connect" an upgrade may be done.
  const opened = new Promise((resolve) => s.io.engine.once("open", () => resolve(s.io.engine.transport.name)));
  await until(s, "connect");
  out("connected", { idIsSession: s.id === s.io.engine.id, transport: await opened });
  // IDLE_MS keeps the connection idle first, so that only the client's pings keep it open.
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.IDLE_MS || 0)));
  // A 4.x client on the same server.
  const v4 = ioV4(url, { transports, reconnection: false, forceNew: true });
  await until(v4, "connect");
  const values = ["héllo wörld €🎉 ✓ 日本語", 42, -1.5, true, null, { a: { b: [1, "x", null] } }, "x".repeat(100 * 1024), ""];
  for (const v of values) {
    const [back] = await ask(s, "echo", v);
    out("echo", { ok: JSON.stringify(back) === JSON.stringify(v) });
  }
  const [typed] = await ask(s, "typed", { name: "ada", tags: ["a", "b"] }, 7);
  out("typed", { reply: typed });
  // Binary both ways, before and after the upgrade.
  const payload = { file: Buffer.from([1, 2, 3]), parts: [Buffer.from([4]), Buffer.from([250, 251])], name: "f" };
  const [echoed] = await ask(s, "binary", payload);
  out("binary", { file: hex(echoed.file), parts: echoed.parts.map(hex), name: echoed.name });
  await waitUpgrade(s);
  const [echoed2] = await ask(s, "binary", payload);
  out("binary_after_upgrade", { file: hex(echoed2.file), parts: echoed2.parts.map(hex) });
  s.emit("send-binary");
  const [pushed] = await until(s, "binary-push");
  out("binary_push", { data: hex(pushed.data), list: pushed.list.map(hex) });
  // The server asks the client, with an ack.
  s.on("question", (n, cb) => cb(n * 2));
  s.emit("ask");
  const [answer] = await until(s, "answer");
  out("server_ack", { answer });
  // Broadcasts between the 2.x and the 4.x client, with binary.
  const got4 = until(v4, "relayed");
  s.emit("relay", "from v2", Buffer.from([7, 7]));
  const r4 = await got4;
  out("relay_to_v4", { args: [r4[0], hex(Buffer.from(r4[1]))] });
  const got2 = until(s, "relayed");
  v4.emit("relay", "from v4", new Uint8Array([8]));
  const r2 = await got2;
  out("relay_to_v2", { args: [r2[0], hex(r2[1])] });
  const [who] = await ask(s, "whoami");
  out("whoami", { who, id: s.id });
  out("final", { transport: s.io.engine.transport.name });
  v4.disconnect();
  s.disconnect();
  finish();
}

async function namespaces() {
  const admin = connect("/admin");
  await until(admin, "connect");
  const [nsp] = await ask(admin, "nsp");
  out("admin", { nsp, id: admin.id, idForm: admin.id === "/admin#" + admin.io.engine.id });
  const bad = connect("/nope");
  const [e1] = await until(bad, "error");
  out("invalid", { error: e1 });
  const priv = connect("/private", { query: { token: "wrong" } });
  const [e2] = await until(priv, "error");
  out("refused", { error: e2 });
  const ok = connect("/private", { query: { token: "secret" } });
  await until(ok, "connect");
  const [okNsp] = await ask(ok, "nsp");
  out("accepted", { nsp: okNsp });
  // Two namespaces multiplexed on one connection.
  const mgr = connect("/");
  await until(mgr, "connect");
  const sub = mgr.io.socket("/admin");
  await until(sub, "connect");
  const [subNsp] = await ask(sub, "nsp");
  out("multiplexed", { same: mgr.io.engine === sub.io.engine, nsp: subNsp });
  for (const s of [admin, ok, mgr, sub]) s.disconnect();
  bad.close();
  priv.close();
  finish();
}

async function disconnects() {
  const a = connect();
  await until(a, "connect");
  await waitUpgrade(a);
  a.emit("disconnect-me");
  const [r1] = await until(a, "disconnect");
  out("server_disconnect", { reason: r1 });
  const b = connect();
  await until(b, "connect");
  b.emit("close-me");
  const [r2] = await until(b, "disconnect");
  out("server_close", { reason: r2 });
  const c = connect();
  await until(c, "connect");
  await waitUpgrade(c);
  out("client_id", { id: c.id });
  c.disconnect();
  finish();
}

// The client stops pinging: the server closes the session after pingInterval + pingTimeout.
async function pingTimeout() {
  const s = connect();
  s.io.engine.setPing = () => {};
  clearTimeout(s.io.engine.pingIntervalTimer);
  // Nor does it time the server out itself, so that the close comes from the server's timer.
  s.io.engine.onHeartbeat = () => {};
  await until(s, "connect");
  out("client_id", { id: s.id });
  const [reason] = await until(s, "disconnect");
  out("disconnected", { reason });
  finish();
}

const scenarios = { events, namespaces, disconnects, pingTimeout };
if (!scenarios[scenario]) fail("unknown scenario " + scenario);
scenarios[scenario]().catch((e) => fail(String(e && e.stack || e)));
