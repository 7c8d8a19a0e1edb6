// One Socket.IO server (socket.io 4.8 on @socket.io/redis-adapter) of the Node cluster of the
// cluster benchmark, with the benchmark contract of bench/README.md:
//
//   echo  (...args, ack)        -> ack(...args)
//   join  (room, ack)           -> socket.join(room); ack()
//   bcast (room, payload, ack)  -> io.to(room).emit("bcast", payload); ack()
//
// It listens on 127.0.0.1:$PORT, uses the Redis server at $REDIS_ADDR (host:port) and prints
// "listening <port>" once ready. Its modules come from the repository's node_modules.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

async function main() {
  const port = Number(process.env.PORT || 3001);
  const url = "redis://" + (process.env.REDIS_ADDR || "127.0.0.1:6379");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on("error", (err) => console.error("redis:", err.message));
  sub.on("error", (err) => console.error("redis:", err.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer();
  const io = new Server(httpServer, { path: "/socket.io/", adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => {
    const rooms = socket.handshake.auth && socket.handshake.auth.rooms;
    if (Array.isArray(rooms)) socket.join(rooms.map(String));
    socket.on("echo", (...args) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
    socket.on("join", (room, ack) => {
      socket.join(String(room));
      if (typeof ack === "function") ack();
    });
    socket.on("bcast", (room, payload, ack) => {
      io.to(String(room)).emit("bcast", payload);
      if (typeof ack === "function") ack();
    });
  });
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening ${httpServer.address().port}`);
  });
  const shutdown = () => {
    io.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
