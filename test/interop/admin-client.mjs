// The Admin UI's side of the "/admin" protocol, spoken with the official client
// (admin/admin_test.go): a login, the messages the UI gets while a user connects, is made to
// join a room by the UI, joins a room, sends an event, changes its socket data and leaves, then a login with the session ID, and a wrong password.
import { io } from "socket.io-client";

const url = process.env.URL;
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), 30000);
const until = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));
const opts = { reconnection: false, forceNew: true };

const wrong = io(url + "/admin", { ...opts, auth: { username: "admin", password: "wrong" } });
const [err] = await Promise.race([until(wrong, "connect_error"), until(wrong, "connect").then(() => [{ message: "connected" }])]);
out("wrong_password", { message: err.message });
wrong.close();

const admin = io(url + "/admin", { ...opts, auth: { username: "admin", password: process.env.PASSWORD } });
const seen = [];
for (const ev of ["socket_connected", "socket_updated", "socket_disconnected", "room_joined", "room_left", "event_received", "event_sent"]) {
  admin.on(ev, (...args) => seen.push([ev, ...args]));
}
const aggregated = new Set(); // the types of the aggregated events of every server_stats
admin.on("server_stats", (st) => st.aggregatedEvents.forEach((e) => aggregated.add(e.type)));
const session = until(admin, "session");
const config = until(admin, "config");
const all = until(admin, "all_sockets");
await until(admin, "connect");
out("session", { id: (await session)[0] });
const cfg0 = (await config)[0];
out("config", cfg0);
// In production mode (no ALL_EVENTS) the UI gets no list of the sockets.
if (cfg0.supportedFeatures.includes("ALL_EVENTS")) out("all_sockets", { sockets: (await all)[0] });

const user = io(url, { ...opts, transports: ["websocket"] });
await until(user, "connect");
// The UI's join action: the server does it unless it is read-only.
admin.emit("join", "/", "vip", user.id);
await user.emitWithAck("join", "lobby");
await user.emitWithAck("hello", { text: "hi" });
await user.emitWithAck("profile", "alice");
const stats = (await until(admin, "server_stats"))[0];
out("server_stats", stats);
const userId = user.id;
user.disconnect();
const wait = Date.now() + 5000;
const verbose = cfg0.supportedFeatures.includes("ALL_EVENTS");
if (!verbose) await new Promise((r) => setTimeout(r, 500)); // time for events that must not come
while (verbose && !seen.some((e) => e[0] === "socket_disconnected" && e[1] === "/") && Date.now() < wait) await new Promise((r) => setTimeout(r, 50));
await until(admin, "server_stats"); // the counts of the user's last messages
out("seen", { events: seen, user: userId, aggregated: [...aggregated] });
admin.close();

const again = io(url + "/admin", { ...opts, auth: { sessionId: (await session)[0] } });
const [cfg] = await Promise.race([until(again, "config"), until(again, "connect_error").then((e) => [{ error: e[0].message }])]);
out("session_login", { config: cfg });
again.close();
clearTimeout(deadline);
setTimeout(() => process.exit(0), 50);
