// Rooms and broadcasts seen by several official clients (socketio/rooms_interop_test.go).
import { io } from "socket.io-client";
// PARSER=msgpack makes the client speak socket.io-msgpack-parser.
const parser = process.env.PARSER === "msgpack" ? { parser: (await import("socket.io-msgpack-parser")).default } : {};

const url = process.env.URL;
const transports = (process.env.TRANSPORTS || "polling,websocket").split(",");
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), 20000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));

const names = ["A", "B", "C", "D"];
const rooms = { A: ["r1", "all"], B: ["r1", "r2", "all"], C: ["r2", "all"], D: ["all"] };
const clients = {};
const got = {};
for (const n of names) {
  const s = io(url, { transports, forceNew: true, reconnection: false, ...parser });
  clients[n] = s;
  got[n] = [];
  s.on("msg", (m) => got[n].push(m));
  s.on("disconnect", (reason) => got[n].push("disconnect:" + reason));
  if (n !== "D") s.on("poll", (cb) => cb(n)); // D never answers
  else s.on("poll", () => {});
}
await Promise.all(names.map((n) => until(clients[n], "connect")));
out("ids", { ids: Object.fromEntries(names.map((n) => [n, clients[n].id])) });
for (const n of names) await clients[n].emitWithAck("join", rooms[n]);
const A = clients.A;
const step = async (label, ev, ...args) => {
  for (const n of names) got[n] = [];
  const reply = await A.emitWithAck(ev, ...args);
  await sleep(150);
  out(label, { reply: reply === undefined ? null : reply, got: { ...got } });
};
await step("room", "bcast", ["r1"], [], "m1");
await step("rooms", "bcast", ["r1", "r2"], [], "m2");
await step("except", "bcast", ["r1"], ["r2"], "m3");
await step("from_socket", "bcast-from", ["r1"], "m4");
await step("volatile", "bcast-volatile", "m5");
await step("ack_all", "ask-all", "all");
await step("fetch", "fetch", "r2");
await step("sockets_join", "sockets-join", "r2", "r3");
await step("after_join", "bcast", ["r3"], [], "m6");
await step("sockets_leave", "sockets-leave", "r1", "r1");
await step("after_leave", "bcast", ["r1"], [], "m7");
await step("disconnect_sockets", "disconnect-sockets", "r2");
for (const n of names) clients[n].disconnect();
clearTimeout(deadline);
setTimeout(() => process.exit(0), 50);
