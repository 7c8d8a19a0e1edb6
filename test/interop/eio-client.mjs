// Drives the official engine.io-client against a server under test. The scenario and the server
// come from the environment; every observation is printed as one JSON line for the Go test.
import { Socket } from "engine.io-client";
import WebSocket from "ws";

const url = process.env.URL;
const scenario = process.env.SCENARIO || "echo";
const transports = (process.env.TRANSPORTS || "polling,websocket").split(",");
const upgrade = process.env.UPGRADE !== "false";
const limit = Number(process.env.SIZE_LIMIT || 0);

const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), Number(process.env.DEADLINE_MS || 15000));

const socket = new Socket(url, { transports, upgrade, path: process.env.EIO_PATH || "/engine.io/" });
// The client delivers an empty text message as undefined.
const encode = (m) => (m === undefined ? { text: "" } : typeof m === "string" ? { text: m } : { bin: Array.from(new Uint8Array(m)) });
const finish = (code = 0) => { clearTimeout(deadline); setTimeout(() => process.exit(code), 50); };

socket.on("error", (err) => out("socket_error", { message: String(err && err.message || err) }));
socket.on("upgrade", (t) => out("upgrade", { transport: t.name }));

switch (scenario) {
  case "echo": {
    const batches = [
      ["hello", "héllo €🎉 ✓", new Uint8Array([1, 2, 3, 250]).buffer, ""],
      ["after upgrade", new Uint8Array([0, 255, 128]).buffer],
    ];
    const expected = [];
    const received = [];
    const send = (batch) => { for (const m of batch) { expected.push(encode(m)); socket.send(m); } };
    socket.on("open", () => {
      out("open", { transport: socket.transport.name, id: socket.id });
      send(batches[0]);
      if (!(upgrade && transports.length > 1)) send(batches[1]);
    });
    socket.on("upgrade", () => send(batches[1]));
    socket.on("message", (m) => {
      received.push(encode(m));
      if (received.length === 6) {
        const ok = JSON.stringify(received) === JSON.stringify(expected);
        out("done", { ok, transport: socket.transport.name, received, expected });
        socket.close();
        finish(ok ? 0 : 1);
      }
    });
    break;
  }
  case "size": {
    let step = 0;
    socket.on("open", () => {
      out("open", { transport: socket.transport.name });
      // "4" + data is the packet: a message of limit-1 characters fills the limit exactly.
      socket.send("a".repeat(limit - 1));
    });
    socket.on("message", (m) => {
      if (step === 0) {
        out("under", { ok: m.length === limit - 1 });
        step = 1;
        socket.send("b".repeat(limit + 1));
      } else {
        out("unexpected_message", { length: m.length });
      }
    });
    socket.on("close", (reason) => { out("close", { reason }); finish(); });
    break;
  }
  case "server-close":
    socket.on("open", () => { out("open", { transport: socket.transport.name }); socket.send("close-me"); });
    socket.on("message", (m) => out("message", { data: String(m) }));
    socket.on("close", (reason) => { out("close", { reason }); finish(); });
    break;
  case "client-close":
    socket.on("open", () => {
      out("open", { transport: socket.transport.name, id: socket.id });
      setTimeout(() => { socket.close(); out("closed"); finish(); }, 100);
    });
    break;
  case "no-pong": {
    // A client that stops answering the server's pings.
    const sendPacket = socket._sendPacket.bind(socket);
    socket._sendPacket = (type, ...rest) => { if (type !== "pong") sendPacket(type, ...rest); };
    let opened = 0;
    socket.on("open", () => { opened = Date.now(); out("open", { transport: socket.transport.name, id: socket.id }); });
    socket.on("ping", () => out("ping", { at: Date.now() - opened }));
    socket.on("close", (reason) => { out("close", { reason, after: Date.now() - opened }); finish(); });
    break;
  }
  case "close-pending-poll":
    // Polling only: the client closes while its GET waits for packets (the server side
    // records what that GET was answered).
    socket.on("open", () => {
      out("open", { transport: socket.transport.name, id: socket.id });
      setTimeout(() => { socket.close(); out("closed"); finish(); }, 300);
    });
    break;
  case "second-websocket": {
    // After the upgrade, a second websocket for the same session, opened the way the
    // client's own transport opens it and without an error listener: an HTTP error here would
    // be an uncaught exception that ends the process.
    let second = false;
    socket.on("open", () => out("open", { transport: socket.transport.name, id: socket.id }));
    socket.on("upgrade", () => {
      if (second) return;
      second = true;
      const u = new URL(url);
      u.protocol = u.protocol.replace("http", "ws");
      u.pathname = process.env.EIO_PATH || "/engine.io/";
      u.search = "EIO=4&transport=websocket&sid=" + encodeURIComponent(socket.id);
      const ws = new WebSocket(u.toString());
      ws.on("open", () => out("second_open"));
      ws.on("message", (m) => out("second_message", { data: String(m) }));
      ws.on("close", (code) => {
        out("second_close", { code });
        socket.send("still here");
      });
    });
    socket.on("message", (m) => {
      out("message", { data: String(m), transport: socket.transport.name });
      socket.close();
      finish();
    });
    break;
  }
  default:
    fail("unknown scenario " + scenario);
}
