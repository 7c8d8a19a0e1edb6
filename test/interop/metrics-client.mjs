// Traffic for the metrics tests (metrics/metrics_test.go): two official clients, A on polling
// then websocket, B on websocket, both in the room "room", and C, whose handshake the server
// refuses. At each checkpoint the server reads its /metrics page before it answers.
import { io } from "socket.io-client";

const url = process.env.URL;
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), 30000);
const until = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));

const A = io(url, { reconnection: false, forceNew: true });
const B = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
B.on("ask", (cb) => cb("yes"));
B.on("ignore", () => {});
await Promise.all([until(A, "connect"), until(B, "connect")]);
if (A.io.engine.transport.name !== "websocket") await until(A.io.engine, "upgrade");
out("connected", { a: A.id, b: B.id, transport: A.io.engine.transport.name });
await A.emitWithAck("checkpoint", "connected");

out("echo", { reply: (await A.emitWithAck("echo", "x".repeat(1000))).length });
out("ask", { reply: await A.emitWithAck("ask-b") });
out("timeout", { reply: await A.emitWithAck("ask-b-timeout") });
const got = until(B, "news");
await A.emitWithAck("bcast");
out("news", { got: (await got)[0] });
await A.emitWithAck("checkpoint", "traffic");

// C's handshake is refused by the server's AllowRequest.
const C = io(url, { query: { refuse: "yes" }, reconnection: false, forceNew: true });
out("refused", { message: (await until(C, "connect_error"))[0].message });
C.close();

B.disconnect();
await A.emitWithAck("wait-sockets", 1);
await A.emitWithAck("checkpoint", "after");
A.disconnect();
clearTimeout(deadline);
setTimeout(() => process.exit(0), 50);
