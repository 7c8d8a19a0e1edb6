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
import { clientCommands, serverCommands, listen, onConnection, out, plain, redisClients, redisPair, run } from "./common.mjs";

const servers = new Map(); // name -> {io, pub, sub}

const server = (name = "node") => {
  const s = servers.get(name);
  if (!s) throw new Error(`no server ${name}`);
  return s;
};

const commands = {
  // connect and emit: the clients (common.mjs), as in cluster.mjs.
  ...clientCommands,
  ...serverCommands(server),
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
