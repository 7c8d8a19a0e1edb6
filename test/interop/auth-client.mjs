// Drives the official socket.io-client against a Go server that uses package auth
// (auth/interop_test.go). Every observation is one JSON line.
//
// URL         the server's origin
// SCENARIO    "cases": connect once per entry of CASES and report connect or connect_error;
//             "expiry": connect with TOKEN, wait for the auth_expired event and the
//             disconnect, then connect again with FRESH through the auth callback.
// CASES       JSON list of {name, auth, headers, query, transports}
import { io } from "socket.io-client";
import { NodeWebSocket, NodeXHR } from "engine.io-client";

const url = process.env.URL;
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), Number(process.env.DEADLINE_MS || 20000));
const until = (em, ev) => new Promise((resolve) => em.once(ev, (...a) => resolve(a)));
const transportsOf = (names) => (names || ["polling", "websocket"]).map((n) => (n === "websocket" ? NodeWebSocket : NodeXHR));

// Large tokens are made here: the environment cannot hold them.
const expand = (a) => {
  if (a && a.token === "@dots") return { ...a, token: ".".repeat(10000) };
  if (a && a.token === "@1MB") return { ...a, token: "a".repeat(1 << 20) };
  return a;
};

async function cases() {
  for (const c of JSON.parse(process.env.CASES)) {
    c.auth = expand(c.auth);
    const s = io(url, {
      transports: transportsOf(c.transports), reconnection: false, forceNew: true,
      auth: c.auth || {}, extraHeaders: c.headers || {}, query: c.query || {},
    });
    const [err] = await Promise.race([until(s, "connect").then(() => [null]), until(s, "connect_error")]);
    if (err) {
      out("case", { name: c.name, connected: false, message: err.message, data: err.data });
    } else {
      out("case", { name: c.name, connected: true, claims: await s.emitWithAck("claims") });
    }
    s.disconnect();
  }
}

async function expiry() {
  let token = process.env.TOKEN;
  const s = io(url, { reconnection: false, forceNew: true, auth: (cb) => cb({ token }) });
  const expired = until(s, "auth_expired");
  const [err] = await Promise.race([until(s, "connect").then(() => [null]), until(s, "connect_error")]);
  if (err) fail("refused: " + err.message + " " + JSON.stringify(err.data));
  const firstId = s.id;
  out("connected", { id: firstId, claims: await s.emitWithAck("claims") });
  const [reason] = await until(s, "disconnect");
  const [data] = await expired;
  out("expired", { data, reason });
  // What an app does: get a fresh token, then connect again; the auth callback reads it.
  token = process.env.FRESH;
  s.connect();
  await until(s, "connect");
  out("reconnected", { newId: s.id !== firstId, claims: await s.emitWithAck("claims") });
  s.disconnect();
}

const scenarios = { cases, expiry };
if (!scenarios[process.env.SCENARIO]) fail("unknown scenario " + process.env.SCENARIO);
scenarios[process.env.SCENARIO]().then(
  () => { clearTimeout(deadline); setTimeout(() => process.exit(0), 50); },
  (e) => fail(String(e && e.stack || e)),
);
