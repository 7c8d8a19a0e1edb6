// Drives the official socket.io-client against an Echo app that mounts the Socket.IO endpoint
// with sioecho (Echo v5) or sioecho4 (Echo v4): the interop tests of both packages, through
// middleware/internal/mounttest, and the test of examples/echo4. Every observation is one JSON
// line.
//
// BASE      the app's origin, such as http://127.0.0.1:1234
// SIO_PATH  the Socket.IO path, such as /socket.io/ or /app/socket.io/
// APP       the app's own page and JSON route, comma-separated, such as /,/api/ping
// TRANSPORTS  polling,websocket (default) or one of them; FETCH=1 polls with fetch() instead of
//           XMLHttpRequest (fetch sends Accept-Encoding and decompresses, like a browser)
// HEADERS   JSON of extra headers for every request (Origin, Cookie, Authorization...)
// HOLD_MS   how long to stay connected between two rounds of events
import { io } from "socket.io-client";
import { Fetch, NodeWebSocket as WS, NodeXHR } from "engine.io-client";

const base = process.env.BASE;
const path = process.env.SIO_PATH || "/socket.io/";
const names = (process.env.TRANSPORTS || "polling,websocket").split(",");
const useFetch = process.env.FETCH === "1";
const headers = JSON.parse(process.env.HEADERS || "null") || {};
const hold = Number(process.env.HOLD_MS || 0);
const app = (process.env.APP || "").split(",").filter(Boolean);

const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), Number(process.env.DEADLINE_MS || 20000));
const until = (em, ev) => new Promise((resolve) => em.once(ev, (...a) => resolve(a)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(url) {
  const res = await fetch(url, { headers });
  const body = await res.text();
  return {
    status: res.status, type: res.headers.get("content-type") || "", encoding: res.headers.get("content-encoding") || "",
    len: body.length, head: body.slice(0, 60),
  };
}

async function main() {
  for (const p of app) out("app", { path: p, ...(await get(base + p)) });
  out("bundle", await get(base + path + "socket.io.js"));
  out("bare", await get(base + path));

  const transports = names.map((n) => (n === "websocket" ? WS : useFetch ? Fetch : NodeXHR));
  const s = io(base, { path, transports, reconnection: false, forceNew: true, extraHeaders: headers });
  const first = await Promise.race([until(s, "connect").then(() => null), until(s, "connect_error").then(([e]) => e)]);
  if (first) { out("connect_error", { message: first.message, data: first.data }); return; }
  out("connected", { id: s.id, transport: s.io.engine.transport.name });
  s.on("disconnect", (reason) => out("disconnect", { reason }));
  const big = "x".repeat(300 * 1024);
  out("echo", { small: (await s.emitWithAck("echo", "hello")) === "hello", big: (await s.emitWithAck("echo", big)) === big });
  if (names.length > 1 && s.io.engine.transport.name !== "websocket") await until(s.io.engine, "upgrade");
  if (hold) await sleep(hold);
  const who = await s.timeout(5000).emitWithAck("whoami");
  out("whoami", { who, id: s.id, connected: s.connected, transport: s.io.engine.transport.name });
  s.disconnect();
}

main().then(() => { clearTimeout(deadline); setTimeout(() => process.exit(0), 50); }, (e) => fail(String(e && e.stack || e)));
