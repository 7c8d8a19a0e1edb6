// socket.io-client 2.x in headless Chromium against a Go server with AllowEIO3
// (socketio/v3_interop_test.go). In a browser the 2.x client polls with XMLHttpRequest level
// 2, so its polling payloads that hold binary use the binary framing of Engine.IO v3 in both
// directions. TRANSPORTS picks the transports; the page is URL/v2.html, or URL/PAGE (the
// msgpack bundle of the 4.x client served by the Go server, for its test).
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const url = process.env.URL;
const transports = (process.env.TRANSPORTS || "polling").split(",");
const out = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const deadline = setTimeout(() => { out("error", { message: "timed out" }); process.exit(1); }, 60000);

const profile = mkdtempSync(join(tmpdir(), "v2-browser-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  timeout: 30000,
});
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (msg) => { if (msg.type() === "error") out("console", { text: msg.text() }); });
  await page.goto(url + "/" + (process.env.PAGE || "v2.html"));
  const result = await page.evaluate(async (transports) => {
    const s = io({ transports, reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      s.on("connect", resolve);
      s.on("error", reject);
      s.on("connect_error", reject);
      setTimeout(() => reject(new Error("connect timed out")), 20000);
    });
    const hex = (b) => Array.from(new Uint8Array(b)).map((x) => x.toString(16).padStart(2, "0")).join("");
    const payload = { file: new Uint8Array([1, 2, 3]).buffer, parts: [new Uint8Array([4]).buffer, new Uint8Array([250, 251]).buffer], name: "f" };
    const echoed = await new Promise((resolve) => s.emit("binary", payload, resolve));
    s.emit("send-binary");
    const pushed = await new Promise((resolve) => s.once("binary-push", resolve));
    const [text] = await new Promise((resolve) => s.emit("echo", "héllo 🎉", (...a) => resolve(a)));
    const supportsBinary = s.io.engine.transport.supportsBinary;
    const transport = s.io.engine.transport.name;
    s.disconnect();
    return { file: hex(echoed.file), parts: echoed.parts.map(hex), push: hex(pushed.data), list: pushed.list.map(hex), text, transport, supportsBinary };
  }, transports);
  out("result", result);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(deadline);
}
