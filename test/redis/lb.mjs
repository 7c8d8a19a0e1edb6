// Official socket.io-client clients behind a load balancer without sticky sessions, driven by
// the Go test (rooms/redisadapter/sio_nosticky_test.go) through one JSON command a line on
// stdin; the output is that of cluster.mjs (common.mjs).
//
// run {name, url, transports, n, senders}: a client that joins the room "all" (auth.rooms),
// emits "msg" n times with acknowledgements, and waits until it has received the n "echo"
// events of each of the senders, each once and in order. It answers with what it saw:
// {acks, got: {sender: count}, errors, transport}.
import { io as connect } from "socket.io-client";
import { out, run } from "./common.mjs";

const clients = [];

const commands = {
  async run({ name, url, transports, n, senders }) {
    const s = connect(url, { transports, forceNew: true, reconnection: false, auth: { name, rooms: ["all"] } });
    clients.push(s);
    const got = {};
    const errors = [];
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const check = () => {
      if (senders.every((x) => got[x] === n)) done();
    };
    s.on("echo", (from, i) => {
      const next = (got[from] || 0) + 1;
      if (i !== next) errors.push(`${from}: got ${i} after ${next - 1}`);
      got[from] = Math.max(got[from] || 0, i);
      check();
    });
    s.on("disconnect", (reason) => errors.push(`disconnect: ${reason}`));
    await new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    await s.timeout(10000).emitWithAck("ready");
    out({ event: "ready", client: name });
    // Start sending once every client is in the room.
    await new Promise((resolve) => s.once("go", resolve));
    const acks = await Promise.all(
      Array.from({ length: n }, (_, i) => s.timeout(120000).emitWithAck("msg", i + 1)),
    );
    const bad = acks.filter((a, i) => a !== i + 1).length;
    if (bad) errors.push(`${bad} wrong acks`);
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 120000))]);
    return { acks: acks.length, got, errors, transport: s.io.engine.transport.name };
  },
};

await run(commands, async () => {
  for (const s of clients) s.close();
});
