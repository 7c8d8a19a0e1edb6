// Official socket.io-client clients and Node socket.io servers with the sharded adapter of
// @socket.io/redis-adapter (createShardedAdapter, Redis sharded pub/sub), driven by the Go test
// (rooms/redisadapter/sio_sharded_test.go) through one JSON command a line on stdin.
//
// The client commands (connect, emit) and the output are those of cluster.mjs: every command
// carries an id and its result is printed as {"event":"done","id":...}; what the clients
// receive is printed as {"event":"got","client","name","args"}; binary values travel as
// {"$bin":"<hex>"} in both directions. The server commands name a Node server, so that a test
// can run several and stop one. Server-side events reaching a Node server are printed as
// {"event":"sse","server","name","args"}.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { io as connect } from "socket.io-client";

const out = (o) => console.log(JSON.stringify(o));

// plain turns the binary values in v into {"$bin": hex}, for JSON.
const plain = (v) => {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
};

// binary turns the {"$bin": hex} values in v into Buffers.
const binary = (v) => {
  if (Array.isArray(v)) return v.map(binary);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "hex");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, binary(x)]));
  }
  return v;
};

const clients = new Map();
const servers = new Map(); // name -> {io, pub, sub}
const redisClients = [];

const redis = async () => {
  const c = createClient({ url: process.env.REDIS_URL });
  c.on("error", (err) => console.error("redis:", err.message));
  await c.connect();
  redisClients.push(c);
  return c;
};

const server = (name = "node") => {
  const s = servers.get(name);
  if (!s) throw new Error(`no server ${name}`);
  return s;
};

const commands = {
  // connect {name, url, rooms, transports, silent}: as in cluster.mjs.
  async connect({ name, url, rooms = [], transports = ["websocket"], silent = false }) {
    const s = connect(url, { transports, forceNew: true, reconnection: false, auth: { name, rooms } });
    s.onAny((ev, ...args) => {
      const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
      out({ event: "got", client: name, name: ev, args: plain(args) });
      if (cb && !silent) cb(name);
    });
    s.on("disconnect", (reason) => out({ event: "disconnect", client: name, reason }));
    await new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    clients.set(name, s);
    await s.timeout(5000).emitWithAck("ready");
    return { sid: s.id };
  },
  // emit {client, ev, args}: the client emits an event and waits for its acknowledgement.
  async emit({ client, ev, args = [] }) {
    const reply = await clients.get(client).timeout(5000).emitWithAck(ev, ...binary(args));
    return { reply: plain(reply) };
  },
  // serve {server, mode}: starts a Node server with the sharded adapter in subscription mode.
  async serve({ server: name = "node", mode = "dynamic" }) {
    const pub = await redis();
    const sub = pub.duplicate();
    sub.on("error", (err) => console.error("redis:", err.message));
    await sub.connect();
    redisClients.push(sub);
    const httpServer = createServer();
    const io = new Server(httpServer, { adapter: createShardedAdapter(pub, sub, { subscriptionMode: mode }) });
    io.on("connection", (socket) => {
      const { name: client, rooms = [] } = socket.handshake.auth;
      socket.data = { name: client };
      socket.join(rooms);
      socket.on("ready", (cb) => cb(true));
    });
    io.on("goSSE", (...args) => out({ event: "sse", server: name, name: "goSSE", args: plain(args) }));
    for (const ev of ["goAsk", "nodeAsk"]) {
      io.on(ev, (...args) => {
        const cb = args.pop();
        out({ event: "sse", server: name, name: ev, args: plain(args) });
        cb(`${name} answer`);
      });
    }
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    servers.set(name, { io, pub, sub });
    return { url: `http://127.0.0.1:${httpServer.address().port}`, uid: io.of("/").adapter.uid };
  },
  // nodeEmit {server, to, except, ev, args}: a broadcast of a Node server.
  async nodeEmit({ server: name, to = [], except = [], ev, args = [] }) {
    server(name).io.to(to).except(except).emit(ev, ...binary(args));
    return {};
  },
  // nodeAsk {server, to, ev}: a broadcast with acknowledgements of a Node server.
  async nodeAsk({ server: name, to = [], ev }) {
    const answers = await server(name).io.timeout(5000).to(to).emitWithAck(ev);
    return { answers: answers.map(plain).sort() };
  },
  // nodeFetch {server, in}: fetchSockets of a Node server.
  async nodeFetch({ server: name, in: rooms = [] }) {
    const sockets = await server(name).io.in(rooms).fetchSockets();
    return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })) };
  },
  // nodeJoin {server, in, room}: socketsJoin of a Node server.
  async nodeJoin({ server: name, in: rooms = [], room }) {
    server(name).io.in(rooms).socketsJoin(room);
    return {};
  },
  // nodeSSE {server, ev, args}: serverSideEmit of a Node server.
  async nodeSSE({ server: name, ev, args = [] }) {
    server(name).io.serverSideEmit(ev, ...binary(args));
    return {};
  },
  // nodeSSEAsk {server, ev, args}: serverSideEmitWithAck of a Node server.
  async nodeSSEAsk({ server: name, ev, args = [] }) {
    const answers = await server(name).io.serverSideEmitWithAck(ev, ...binary(args));
    return { answers: answers.map(plain).sort() };
  },
  // nodeCount {server}: the server count of a Node server's adapter.
  async nodeCount({ server: name }) {
    return { count: await server(name).io.of("/").adapter.serverCount() };
  },
  // nodeClose {server}: closes a Node server (its adapter unsubscribes).
  async nodeClose({ server: name }) {
    const s = server(name);
    servers.delete(name);
    await new Promise((resolve) => s.io.close(() => resolve()));
    await Promise.allSettled([s.pub.quit(), s.sub.quit()]);
    return {};
  },
  // nodeDrop {server}: drops the subscriber connection of a Node server, as a crash would.
  async nodeDrop({ server: name }) {
    const s = server(name);
    servers.delete(name);
    await s.sub.disconnect();
    return {};
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const msg = JSON.parse(line);
  if (msg.cmd === "quit") break;
  (async () => {
    try {
      out({ event: "done", id: msg.id, cmd: msg.cmd, ...(await commands[msg.cmd](msg)) });
    } catch (err) {
      out({ event: "done", id: msg.id, cmd: msg.cmd, error: String(err && err.message ? err.message : err) });
    }
  })();
}
for (const s of clients.values()) s.close();
await new Promise((resolve) => setTimeout(resolve, 200));
for (const s of servers.values()) s.io.close();
await Promise.allSettled(redisClients.filter((c) => c.isOpen).map((c) => c.quit()));
process.exit(0);
