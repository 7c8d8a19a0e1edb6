// A Node socket.io server with @socket.io/redis-adapter in the cluster on REDIS_URL, and one
// socket.io-client connected to it. It prints JSON lines on stdout and takes commands, one
// JSON object a line, on stdin. The Go test drives it.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { io as connect } from "socket.io-client";

const out = (o) => console.log(JSON.stringify(o));
const plain = (v) =>
  Buffer.isBuffer(v) ? { buffer: v.toString("hex") } : Array.isArray(v) ? v.map(plain) : v;

const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", (err) => console.error("redis:", err.message));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
io.on("connection", (socket) => {
  socket.data = { from: "node" };
  socket.join("room1");
  out({ event: "connection", id: socket.id });
});
io.on("goSSE", (...args) => out({ event: "sse", name: "goSSE", args: plain(args) }));
io.on("goAsk", (arg, cb) => {
  out({ event: "sse", name: "goAsk", args: [arg] });
  cb("node answer");
});

await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const port = httpServer.address().port;

const client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"], query: { who: "node-client" } });
client.onAny((name, ...args) => {
  const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
  out({ event: "client-got", name, args: plain(args) });
  if (cb) cb("node client answer");
});
await new Promise((resolve) => client.on("connect", resolve));
// Wait until the server side has the socket in its room.
while ((await io.local.fetchSockets()).length === 0) await new Promise((r) => setTimeout(r, 10));
out({ event: "ready", port, sid: (await io.local.fetchSockets())[0].id });

const commands = {
  async fetch() {
    const sockets = await io.fetchSockets();
    return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, headers: s.handshake.headers })) };
  },
  async emit() {
    io.to("goroom").emit("fromNode", "hi", Buffer.from([4, 5, 6]));
    io.to("room1").except("goroom").emit("notGoroom");
    return {};
  },
  async sse() {
    io.serverSideEmit("nodeSSE", "x", { y: 1 });
    const answers = await io.serverSideEmitWithAck("nodeAsk", 1);
    return { answers };
  },
  async bwa() {
    const answers = await io.timeout(3000).to("room1").emitWithAck("q2", "?");
    return { answers: answers.sort() };
  },
  async join() {
    io.in("goroom").socketsJoin("nodejoined");
    return {};
  },
  async count() {
    return { count: await io.of("/").adapter.serverCount() };
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const { cmd } = JSON.parse(line);
  if (cmd === "quit") break;
  try {
    out({ event: "done", cmd, ...(await commands[cmd]()) });
  } catch (err) {
    out({ event: "done", cmd, error: String(err && err.message ? err.message : err) });
  }
}
client.close();
io.close();
await Promise.allSettled([pub.quit(), sub.quit()]);
process.exit(0);
