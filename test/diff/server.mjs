// The reference side of the differential test (test/diff): a small application on the official
// socket.io server, with the same behaviour as the Go application of test/diff/fixture_test.go.
// It listens on a free loopback port and prints {"port":N} once ready; it runs until stdin
// closes.
import { createServer } from "node:http";
import { Server } from "socket.io";

const httpServer = createServer();

// The application, the same on the three endpoints.
function app(io) {
  const byName = new Map(); // sockets registered by name, kept after they disconnect
  const reasons = new Map(); // the reason of the last disconnection, by the auth's tag
  const guard = (socket, next) => {
    const token = socket.handshake.auth && socket.handshake.auth.token;
    if (token === "bad") return next(Object.assign(new Error("unauthorized"), { data: { code: 401 } }));
    if (token === "plain") return next(new Error("nope"));
    next();
  };
  const events = (socket) => {
    if (socket.handshake.auth && socket.handshake.auth.welcome) socket.emit("welcome", "hello");
    socket.on("echo", (...args) => socket.emit("echo", ...args));
    socket.on("echo-ack", (...args) => { const ack = args.pop(); ack(...args); });
    socket.on("join", (room, ack) => { socket.join(room); ack(true); });
    socket.on("leave", (room, ack) => { socket.leave(room); ack(true); });
    socket.on("to", (room, ...args) => socket.to(room).emit("relay", ...args));
    socket.on("all", (...args) => io.of(socket.nsp.name).emit("all", ...args));
    socket.on("others", (...args) => socket.broadcast.emit("others", ...args));
    socket.on("ask", (...args) => {
      socket.timeout(10000).emit("question", ...args, (err, ...answers) => {
        if (err) socket.emit("answer-error", err.message);
        else socket.emit("answer", ...answers);
      });
    });
    socket.on("burst", (n) => { for (let i = 0; i < n; i++) socket.emit("n", i); });
    socket.on("bin", () => socket.emit("bin", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]), list: [Buffer.alloc(0), "x"] }));
    socket.on("volatile", () => socket.volatile.emit("v", 1));
    socket.on("whoami", (ack) => ack(socket.id, socket.nsp.name, [...socket.rooms].filter((r) => r !== socket.id).sort()));
    socket.on("bye", (close) => socket.disconnect(close));
    socket.on("close-conn", () => socket.conn.close());
    socket.on("register", (name, ack) => { byName.set(name, socket); ack(true); });
    // Emits of every kind to a registered socket that may have gone: the recovery sessions.
    socket.on("emit-kinds", (name, room, ack) => {
      const s = byName.get(name);
      s.emit("direct", "msg:direct");
      s.emit("direct", 1, "msg:direct-2");
      io.to(room).emit("room", "msg:room");
      io.emit("everyone", "msg:everyone");
      io.except(socket.id).emit("except", "msg:except");
      io.volatile.to(room).emit("volatile", "msg:volatile");
      socket.broadcast.emit("broadcast", "msg:broadcast");
      io.to(room).emit("room-bin", Buffer.from([9, 8]), "msg:bin");
      ack(true);
    });
    socket.on("disconnect", (reason) => {
      const tag = socket.handshake.auth && socket.handshake.auth.tag;
      if (tag) reasons.set(tag, reason);
    });
    socket.on("last-reason", (tag, ack) => { ack(reasons.get(tag) ?? null); reasons.delete(tag); });
  };
  io.use(guard);
  io.on("connection", events);
  io.of("/admin").on("connection", (socket) => { socket.emit("nsp", "/admin"); events(socket); });
  io.of("/guarded").use((socket, next) => next(new Error("go away")));
  io.of(/^\/dyn-\d+$/).on("connection", (socket) => { socket.emit("nsp", socket.nsp.name); events(socket); });
}

app(new Server(httpServer, { path: "/socket.io/" }));
app(new Server(httpServer, { path: "/fast/", pingInterval: 400, pingTimeout: 300, upgradeTimeout: 500 }));
app(new Server(httpServer, {
  path: "/recovery/",
  connectionStateRecovery: { maxDisconnectionDuration: 60000 },
}));

httpServer.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: httpServer.address().port }));
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
