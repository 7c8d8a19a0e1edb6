// The Admin UI's side of the "/admin" protocol in a cluster of two servers on one Redis
// (admin/cluster_test.go): a user on server B, the UI on server A. The UI must list B's
// socket, get both servers' statistics, be told when B's socket changes its data, and make it
// join a room.
import { io } from "socket.io-client";

const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
const deadline = setTimeout(() => fail("scenario timed out"), 40000);
const until = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));
const opts = { reconnection: false, forceNew: true };
const waitFor = async (what, cond) => {
  for (const end = Date.now() + 15000; !cond(); ) {
    if (Date.now() > end) fail("waited 15 s for " + what);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const user = io(process.env.URL_B, { ...opts, transports: ["websocket"] });
await until(user, "connect");
await user.emitWithAck("join", "lobby");

const admin = io(process.env.URL_A + "/admin", { ...opts, auth: { username: "admin", password: process.env.PASSWORD } });
const seen = [];
for (const ev of ["socket_updated", "room_joined"]) admin.on(ev, (...args) => seen.push([ev, ...args]));
const servers = new Set();
admin.on("server_stats", (st) => servers.add(st.serverId));
const all = until(admin, "all_sockets");
await until(admin, "connect");
out("all_sockets", { sockets: (await all)[0], user: user.id });
await waitFor("the statistics of both servers", () => servers.size >= 2);
out("servers", { ids: [...servers].sort() });

await user.emitWithAck("profile", "alice");
await waitFor("socket_updated", () => seen.some((e) => e[0] === "socket_updated" && e[1].id === user.id));
admin.emit("join", "/", "vip", user.id);
await waitFor("room_joined", () => seen.some((e) => e[0] === "room_joined" && e[2] === "vip"));
out("seen", { events: seen });
user.close();
admin.close();
clearTimeout(deadline);
setTimeout(() => process.exit(0), 50);
