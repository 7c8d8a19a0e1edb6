// Publishes through @socket.io/redis-emitter, as any Node process can, to the servers of a
// cluster on REDIS_URL. The Go test checks what its adapter delivers.
import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";

const client = createClient({ url: process.env.REDIS_URL });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();

const io = new Emitter(client);
io.to("room1").emit("hello", "world", { n: 1 });
io.to("room1").emit("bin", Buffer.from([1, 2, 3]), { nested: Buffer.from("hi") });
io.except("room1").emit("notroom1", 42);
io.to(["room1", "room2"]).volatile.emit("tworooms");
io.of("/admin").emit("admin", true);
io.in("room1").socketsJoin("joined");
io.serverSideEmit("fromEmitter", "x", 2);
io.emit("last");

// Flush: a command after the publications returns when Redis has them all.
await client.ping();
console.log(JSON.stringify({ event: "published" }));
await client.quit();
