// Official socket.io-client clients of a cluster, and on demand a Node socket.io server with
// @socket.io/redis-adapter and a @socket.io/redis-emitter, all driven by the Go test
// (rooms/redisadapter/cluster_clients_test.go) through one JSON command a line on stdin.
//
// Every command carries an id; its result is printed as {"event":"done","id":...}. What the
// clients receive is printed as it comes: {"event":"got","client","name","args"} and
// {"event":"disconnect","client","reason"}. Binary values travel as {"$bin":"<hex>"} in both
// directions.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { binary, clientCommands, listen, onConnection, parserOption, plain, redis, redisClients, redisPair, run } from "./common.mjs";

let node = null; // the Node server, once started
let emitter = null;

const commands = {
  // connect and emit: the clients (common.mjs).
  ...clientCommands,
  // serve: starts the Node server in the cluster.
  async serve() {
    const { pub, sub } = await redisPair();
    const httpServer = createServer();
    const io = new Server(httpServer, { adapter: createAdapter(pub, sub), ...parserOption });
    io.on("connection", onConnection);
    const url = await listen(httpServer);
    node = { io, httpServer };
    return { url };
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

await run(commands, async () => {
  if (node) {
    node.io.close();
  }
  await Promise.allSettled(redisClients.map((c) => c.quit()));
});
