// What cluster.mjs and sharded.mjs share: the JSON lines they print, the binary values in
// them, the Redis clients, the official socket.io-client clients and their commands (connect,
// emit), the Node servers' connection hook, and the loop that reads the commands.
import { createInterface } from "node:readline";
import { createClient } from "redis";
import { io as connect } from "socket.io-client";

export const out = (o) => console.log(JSON.stringify(o));

// PARSER=msgpack makes the clients and the Node servers speak socket.io-msgpack-parser.
export const parserOption = process.env.PARSER === "msgpack" ? { parser: (await import("socket.io-msgpack-parser")).default } : {};

// plain turns the binary values in v into {"$bin": hex}, for JSON.
export const plain = (v) => {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
};

// binary turns the {"$bin": hex} values in v into Buffers.
export const binary = (v) => {
  if (Array.isArray(v)) return v.map(binary);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "hex");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, binary(x)]));
  }
  return v;
};

// redisClients are the Redis clients made by redis and redisPair, for the script to quit.
export const redisClients = [];

// redis returns a new client connected to REDIS_URL.
export const redis = async () => {
  const c = createClient({ url: process.env.REDIS_URL });
  c.on("error", (err) => console.error("redis:", err.message));
  await c.connect();
  redisClients.push(c);
  return c;
};

// redisPair returns the publishing and the subscribing client of an adapter.
export const redisPair = async () => {
  const pub = await redis();
  const sub = pub.duplicate();
  sub.on("error", (err) => console.error("redis:", err.message));
  await sub.connect();
  redisClients.push(sub);
  return { pub, sub };
};

// onConnection is the connection hook of the Node servers: a client's auth {name, rooms}
// names it (socket.data.name) and the rooms it joins; its "ready" gets an answer.
export const onConnection = (socket) => {
  const { name, rooms = [] } = socket.handshake.auth;
  socket.data = { name };
  socket.join(rooms);
  socket.on("ready", (cb) => cb(true));
};

// listen starts httpServer on a free loopback port and returns its URL.
export const listen = async (httpServer) => {
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${httpServer.address().port}`;
};

const clients = new Map();

export const clientCommands = {
  // connect {name, url, rooms, transports, silent}: a client that joins rooms (the server
  // reads auth.rooms), answers every event that asks for an acknowledgement with its name
  // unless silent, and reports what it receives.
  async connect({ name, url, rooms = [], transports = ["websocket"], silent = false }) {
    const s = connect(url, { transports, forceNew: true, reconnection: false, auth: { name, rooms }, ...parserOption });
    s.onAny((ev, ...args) => {
      const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
      out({ event: "got", client: name, name: ev, args: plain(args) });
      // binPoll is answered with binary: the name as a Buffer.
      if (cb && !silent) cb(ev === "binPoll" ? Buffer.from(name) : name);
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
};

// serverCommands are the commands of the Node servers a script runs, server(name) being the
// server of that name, {io}: broadcasts (with acknowledgements), fetchSockets, socketsJoin,
// serverSideEmit (with acknowledgements) and the server count.
export const serverCommands = (server) => ({
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
});

// run runs the commands read from stdin, one JSON object a line, until {"cmd":"quit"} or the
// end of the input. Then it closes the clients, runs shutdown and ends the process.
export const run = async (commands, shutdown) => {
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
  await shutdown();
  process.exit(0);
};
