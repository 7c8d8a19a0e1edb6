// Reference Socket.IO server implementing the benchmark contract:
//
//   echo  (...args, ack)        -> ack(...args)
//   join  (room, ack)           -> socket.join(room); ack()
//   bcast (room, payload, ack)  -> io.to(room).emit("bcast", payload); ack()
//
// It listens on 127.0.0.1:$PORT (default 3001), path /socket.io/, with the
// default Socket.IO options, and prints "listening <port>" once ready.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3001);
const httpServer = http.createServer();
const io = new Server(httpServer, { path: "/socket.io/" });

io.on("connection", (socket) => {
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

function shutdown() {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
