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
import { Server } from "socket.io";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { binary, clientCommands, listen, onConnection, out, plain, redisClients, redisPair, run } from "./common.mjs";

const servers = new Map(); // name -> {io, pub, sub}

const server = (name = "node") => {
  const s = servers.get(name);
  if (!s) throw new Error(`no server ${name}`);
  return s;
};

const commands = {
  // connect and emit: the clients (common.mjs), as in cluster.mjs.
  ...clientCommands,
  // serve {server, mode}: starts a Node server with the sharded adapter in subscription mode.
  async serve({ server: name = "node", mode = "dynamic" }) {
    const { pub, sub } = await redisPair();
    const httpServer = createServer();
    const io = new Server(httpServer, { adapter: createShardedAdapter(pub, sub, { subscriptionMode: mode }) });
    io.on("connection", onConnection);
    for (const ev of ["goSSE", "binSSE"]) {
      io.on(ev, (...args) => out({ event: "sse", server: name, name: ev, args: plain(args) }));
    }
    // binAsk is answered with its first argument, binary kept.
    for (const ev of ["goAsk", "nodeAsk", "binAsk"]) {
      io.on(ev, (...args) => {
        const cb = args.pop();
        out({ event: "sse", server: name, name: ev, args: plain(args) });
        cb(ev === "binAsk" ? args[0] : `${name} answer`);
      });
    }
    const url = await listen(httpServer);
    servers.set(name, { io, pub, sub });
    return { url, uid: io.of("/").adapter.uid };
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

await run(commands, async () => {
  for (const s of servers.values()) s.io.close();
  await Promise.allSettled(redisClients.filter((c) => c.isOpen).map((c) => c.quit()));
});
