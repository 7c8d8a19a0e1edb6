// The browser test of the Admin UI served by examples/echo-chat -ops, run by
// examples/echo-chat/admin_test.go.
//
// Two users sign in to the chat and join a channel. Then the official Admin UI, served by the
// chat at /admin-ui/, is opened in headless Chromium: a wrong password is refused, the right
// one logs in, and the UI must show the users' sockets, their rooms and the server's
// statistics, and the data of a third user's socket, set after the UI was open. Screenshots go to SCREENSHOT_DIR.
//
// Environment: CHAT_URL (the server), OPS_USER and OPS_PASSWORD (the credentials),
// SCREENSHOT_DIR, CHROMIUM. Every wait has a timeout; the script prints JSON lines and exits 0
// on success.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.CHAT_URL;
if (!base) throw new Error("CHAT_URL is not set");
const shots = process.env.SCREENSHOT_DIR || "test-results/echo-chat-admin";
const T = 30000;
mkdirSync(shots, { recursive: true });
const emit = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const check = (cond, msg) => { if (!cond) throw new Error(msg); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  timeout: T,
});
try {
  const users = {};
  for (const name of ["alice", "bob"]) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    context.setDefaultTimeout(T);
    const page = await context.newPage();
    await page.goto(`${base}/`, { waitUntil: "load" });
    await page.fill("#name", name);
    await page.click("#signin-form button");
    await page.waitForSelector('#status[data-state="connected"]');
    await page.fill("#join-name", "dev");
    await page.click("#join-form button");
    await page.waitForSelector('#channels li.active[data-key="#dev"]');
    users[name] = page;
    emit("signed_in", { user: name });
  }

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(T);
  const ui = await context.newPage();
  const problems = [];
  ui.on("pageerror", (err) => problems.push(err.message));
  await ui.goto(`${base}/admin-ui/`, { waitUntil: "load" });
  const login = async (password) => {
    await ui.getByLabel("Server URL").fill(base);
    await ui.getByLabel("Username").fill(process.env.OPS_USER || "admin");
    await ui.getByLabel("Password").fill(password);
    await ui.getByRole("button", { name: "Connect" }).click();
  };
  await login("not the password");
  await ui.getByText("invalid credentials").waitFor();
  await ui.screenshot({ path: join(shots, "0-wrong-password.png") });
  emit("wrong_password_refused");

  await login(process.env.OPS_PASSWORD);
  await ui.getByLabel("Password").waitFor({ state: "hidden" });
  emit("logged_in");

  await ui.goto(`${base}/admin-ui/#/sockets/`);
  await ui.waitForFunction(() => [...document.querySelectorAll("tbody tr")].filter((r) => /websocket$/i.test(r.textContent.trim())).length >= 2);
  const sockets = await ui.locator("tbody tr").allTextContents();
  emit("sockets", { rows: sockets.length });
  // A socket's row: its ID (20 characters), the address, the transport.
  check(sockets.filter((r) => /^[\w-]{20}127\.0\.0\.1websocket$/i.test(r.trim())).length >= 2, `the users' sockets are missing: ${JSON.stringify(sockets)}`);
  await ui.screenshot({ path: join(shots, "1-sockets.png") });

  await ui.goto(`${base}/admin-ui/#/rooms/`);
  for (const room of ["channel:dev", "user:alice", "user:bob"]) await ui.getByText(room, { exact: true }).first().waitFor();
  emit("rooms", { rooms: ["channel:dev", "user:alice", "user:bob"] });
  await ui.screenshot({ path: join(shots, "2-rooms.png") });

  // A user who signs in while the UI is open: the UI learns of the socket from socket_connected
  // (with the data the JWT middleware set) and of the name the chat sets once connected from
  // socket_updated, and shows both on the socket's page.
  {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    context.setDefaultTimeout(T);
    const page = await context.newPage();
    await page.goto(`${base}/`, { waitUntil: "load" });
    await page.fill("#name", "carol");
    await page.click("#signin-form button");
    await page.waitForSelector('#status[data-state="connected"]');
    const id = await page.evaluate(() => state.socket.id);
    emit("signed_in", { user: "carol", id });
    await ui.goto(`${base}/admin-ui/#/n/%2F/sockets/${id}`);
    await ui.getByText(id).first().waitFor();
    await ui.waitForFunction(() => document.body.innerText.includes('"name": "carol"'));
    await ui.screenshot({ path: join(shots, "3-socket-data.png") });
    emit("socket_data", { id });
  }

  await ui.goto(`${base}/admin-ui/#/servers/`);
  await ui.waitForFunction(() => document.querySelectorAll("tbody tr").length >= 1);
  const servers = await ui.locator("tbody tr").allTextContents();
  emit("servers", { rows: servers });
  await ui.goto(`${base}/admin-ui/#/`);
  await ui.waitForTimeout(2500); // a server_stats message or two for the charts
  await ui.screenshot({ path: join(shots, "4-dashboard.png") });
  check(problems.length === 0, `page errors: ${JSON.stringify(problems)}`);
  emit("done");
} finally {
  await browser.close();
}
