// Official socket.io-client clients and Node socket.io servers with @socket.io/redis-streams-adapter
// (one Redis stream, connection state recovery on), driven by the Go test
// (rooms/redisadapter/sio_streams_test.go) through one JSON command a line on stdin.
//
// The client commands (connect, emit) and the output are those of cluster.mjs (common.mjs).
// rconnect connects a client that reconnects by itself and recovers its connection state: it
// prints {"event":"connected","client","sid","recovered"} on each connection. The server
// commands are those of sharded.mjs.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { io as connect } from "socket.io-client";
import { clientCommands, serverCommands, listen, onConnection, out, plain, redis, redisClients, run } from "./common.mjs";

const servers = new Map(); // name -> {io}
const rclients = new Map();

const server = (name) => {
  const s = servers.get(name);
  if (!s) throw new Error(`no server ${name}`);
  return s;
};

const commands = {
  ...clientCommands,
  ...serverCommands(server),
  // rconnect {name, url, rooms}: a websocket client that reconnects at once after losing its
  // connection, and reports its connections and what it receives (with the offsets).
  async rconnect({ name, url, rooms = [] }) {
    const s = connect(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
      auth: { name, rooms },
    });
    s.onAny((ev, ...args) => out({ event: "got", client: name, name: ev, args: plain(args) }));
    s.on("connect", () => out({ event: "connected", client: name, sid: s.id, recovered: s.recovered }));
    s.on("disconnect", (reason) => out({ event: "disconnect", client: name, reason }));
    await new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    rclients.set(name, s);
    await s.timeout(5000).emitWithAck("ready");
    return { sid: s.id };
  },
  // serve {server}: starts a Node server with the streams adapter and recovery.
  async serve({ server: name }) {
    const client = await redis();
    const httpServer = createServer();
    const io = new Server(httpServer, {
      adapter: createAdapter(client, { blockTimeInMs: 500 }),
      connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true },
    });
    io.on("connection", onConnection);
    io.on("goSSE", (...args) => out({ event: "sse", server: name, name: "goSSE", args: plain(args) }));
    io.on("goAsk", (...args) => {
      const cb = args.pop();
      cb(`${name} answer`);
    });
    const url = await listen(httpServer);
    servers.set(name, { io, httpServer });
    return { url, uid: io.of("/").adapter.uid };
  },
};

await run(commands, async () => {
  for (const s of rclients.values()) s.close();
  for (const s of servers.values()) s.io.close();
  await Promise.allSettled(redisClients.filter((c) => c.isOpen).map((c) => c.quit()));
});
