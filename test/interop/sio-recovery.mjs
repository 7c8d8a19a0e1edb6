// Connection state recovery seen by the official client (socketio/recovery_test.go).
import { io } from "socket.io-client";
// PARSER=msgpack makes the client speak socket.io-msgpack-parser.
const parser = process.env.PARSER === "msgpack" ? { parser: (await import("socket.io-msgpack-parser")).default } : {};

const url = process.env.URL;
const transports = (process.env.TRANSPORTS || "polling,websocket").split(",");
const delay = Number(process.env.RECONNECT_DELAY || 100);
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), 20000);
const until = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));

const s = io(url, { transports, forceNew: true, reconnectionDelay: delay, reconnectionDelayMax: delay, ...parser });

if (process.env.SCENARIO === "direct") {
  // Direct emits (socket.emit on the server) whose last argument is a string: with recovery
  // they carry an offset, so the client recovers and gets those it missed, once and in order.
  const notes = [];
  s.on("note", (...args) => notes.push(args[0]));
  await until(s, "connect");
  const firstId = s.id;
  await s.emitWithAck("direct", 1);
  await s.emitWithAck("direct", 2);
  if (transports.length > 1 && s.io.engine.transport.name !== "websocket") await until(s.io.engine, "upgrade");
  s.emit("drop-and-direct", [3, 4, 5]);
  const [reason] = await until(s, "disconnect");
  await until(s, "connect");
  const recovered = s.recovered, sameId = s.id === firstId;
  await s.emitWithAck("direct", 6);
  // A second loss: the offsets of the replayed and later direct emits are good too.
  s.emit("drop-and-direct", [7]);
  await until(s, "disconnect");
  await until(s, "connect");
  await s.emitWithAck("direct", 8);
  const start = Date.now();
  while (!notes.includes("text 8") && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
  out("reconnected", { reason, recovered, sameId, recoveredAgain: s.recovered, sameIdAgain: s.id === firstId, notes });
  s.disconnect();
  clearTimeout(deadline);
  setTimeout(() => process.exit(0), 50);
} else {
const msgs = [];
s.on("msg", (...args) => msgs.push(args[0])); // args[1] is the offset the server appends
await until(s, "connect");
const firstId = s.id;
out("connected", { id: firstId, recovered: s.recovered });
await s.emitWithAck("join", "r");
await s.emitWithAck("bcast", "r", 1); // the client now holds an offset
while (msgs.length < 1) await new Promise((r) => setTimeout(r, 10));
if (transports.length > 1 && s.io.engine.transport.name !== "websocket") await until(s.io.engine, "upgrade");
s.emit("drop-and-broadcast", "r", [2, 3, 4, 5, 6]);
const [reason] = await until(s, "disconnect");
await until(s, "connect");
const rooms = await s.emitWithAck("rooms");
await s.emitWithAck("bcast", "r", 7);
const start = Date.now();
while (!msgs.includes(7) && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
out("reconnected", { reason, recovered: s.recovered, sameId: s.id === firstId, msgs, rooms: rooms.sort() });
s.disconnect();
clearTimeout(deadline);
setTimeout(() => process.exit(0), 50);
}
