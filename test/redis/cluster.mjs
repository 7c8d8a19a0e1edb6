// Official socket.io-client clients of a cluster, and on demand a Node socket.io server with
// @socket.io/redis-adapter and a @socket.io/redis-emitter, all driven by the Go test
// (rooms/redisadapter/cluster_clients_test.go) through one JSON command a line on stdin.
//
// Every command carries an id; its result is printed as {"event":"done","id":...}. What the
// clients receive is printed as it comes: {"event":"got","client","name","args"} and
// {"event":"disconnect","client","reason"}. Binary values travel as {"$bin":"<hex>"} in both
// directions.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
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
let node = null; // the Node server, once started
let emitter = null;
const redisClients = [];

const redis = async () => {
  const c = createClient({ url: process.env.REDIS_URL });
  c.on("error", (err) => console.error("redis:", err.message));
  await c.connect();
  redisClients.push(c);
  return c;
};

const commands = {
  // connect {name, url, rooms, transports, silent}: a client that joins rooms (the server
  // reads auth.rooms), answers every event that asks for an acknowledgement with its name
  // unless silent, and reports what it receives.
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
    // The server joins the rooms in its connection hook; a round trip makes sure it ran.
    await s.timeout(5000).emitWithAck("ready");
    return { sid: s.id };
  },
  // emit {client, ev, args}: the client emits an event and waits for its acknowledgement.
  async emit({ client, ev, args = [] }) {
    const reply = await clients.get(client).timeout(5000).emitWithAck(ev, ...binary(args));
    return { reply: plain(reply) };
  },
  // serve: starts the Node server in the cluster.
  async serve() {
    const pub = await redis();
    const sub = pub.duplicate();
    sub.on("error", (err) => console.error("redis:", err.message));
    await sub.connect();
    redisClients.push(sub);
    const httpServer = createServer();
    const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
    io.on("connection", (socket) => {
      const { name, rooms = [] } = socket.handshake.auth;
      socket.data = { name };
      socket.join(rooms);
      socket.on("ready", (cb) => cb(true));
    });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    node = { io, httpServer };
    return { url: `http://127.0.0.1:${httpServer.address().port}` };
  },
  // nodeEmit {to, except, ev, args}: a broadcast of the Node server.
  async nodeEmit({ to = [], except = [], ev, args = [] }) {
    node.io.to(to).except(except).emit(ev, ...binary(args));
    return {};
  },
  // nodeAsk {to, ev}: a broadcast with acknowledgements of the Node server.
  async nodeAsk({ to = [], ev }) {
    const answers = await node.io.timeout(5000).to(to).emitWithAck(ev);
    return { answers: answers.map(plain).sort() };
  },
  // nodeFetch {in}: fetchSockets of the Node server.
  async nodeFetch({ in: rooms = [] }) {
    const sockets = await node.io.in(rooms).fetchSockets();
    return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })) };
  },
  // emitter {to, ev, args}: an emit of @socket.io/redis-emitter.
  async emitter({ to = [], ev, args = [] }) {
    if (!emitter) emitter = { client: await redis() };
    new Emitter(emitter.client).to(to).emit(ev, ...binary(args));
    await emitter.client.ping(); // returns when Redis has the publication
    return {};
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const msg = JSON.parse(line);
  if (msg.cmd === "quit") break;
  // Commands run concurrently: a client may wait for an answer while the test acts.
  (async () => {
    try {
      out({ event: "done", id: msg.id, cmd: msg.cmd, ...(await commands[msg.cmd](msg)) });
    } catch (err) {
      out({ event: "done", id: msg.id, cmd: msg.cmd, error: String(err && err.message ? err.message : err) });
    }
  })();
}
for (const s of clients.values()) s.close();
// Let the long-polling clients' close requests leave before the process ends, so that the
// servers do not wait for sessions whose clients are gone.
await new Promise((resolve) => setTimeout(resolve, 200));
if (node) {
  node.io.close();
}
await Promise.allSettled(redisClients.map((c) => c.quit()));
process.exit(0);
