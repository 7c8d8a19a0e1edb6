// The browser test of examples/echo-chat, run by examples/echo-chat/browser_test.go.
//
// Two users, each in a Chromium of their own with a fresh profile, sign in, join a channel,
// chat, see each other typing and online, exchange a private message, and get a notification
// pushed by POST /api/notify. Then the test asks the Go side to restart the server (it prints
// {"event":"restart"} and waits for a line on stdin), and both pages must reconnect by
// themselves and chat again.
//
// With CHAT_SCENARIO=expiry, one user instead stays signed in while the short-lived token of
// the connection expires, and the page must connect again with a new one.
//
// Environment: CHAT_URL (the server, required), CHAT_TRANSPORT ("polling" forces the client to
// long-polling; anything else lets it upgrade to websocket), CHAT_SCENARIO ("chat" or
// "expiry"), SCREENSHOT_DIR (where the screenshots go), CHROMIUM (the browser,
// /usr/bin/chromium by default).
//
// Every wait has a timeout. The script prints JSON lines on stdout and exits 0 on success.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const base = process.env.CHAT_URL;
if (!base) throw new Error("CHAT_URL is not set");
const transport = process.env.CHAT_TRANSPORT === "polling" ? "polling" : "websocket";
const scenario = process.env.CHAT_SCENARIO === "expiry" ? "expiry" : "chat";
const shots = process.env.SCREENSHOT_DIR || "test-results/echo-chat";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const pageURL = transport === "polling" ? `${base}/?transport=polling` : `${base}/`;
const channel = "dev";
const T = 15000; // the default timeout of every wait

mkdirSync(shots, { recursive: true });
const started = Date.now();
const emit = (event, fields = {}) => console.log(JSON.stringify({ event, ms: Date.now() - started, ...fields }));
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();

// Each user gets a browser of their own with a fresh --user-data-dir.
async function openUser(name) {
  const profile = mkdtempSync(join(tmpdir(), "echo-chat-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 700 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    timeout: 30000,
  });
  context.setDefaultTimeout(T);
  const page = context.pages()[0] || (await context.newPage());
  const user = { name, profile, context, page, problems: [], phase: "load", websockets: 0 };
  page.on("console", (msg) => {
    if (msg.type() === "error") user.problems.push({ phase: user.phase, what: `console: ${msg.text()}` });
  });
  page.on("pageerror", (err) => user.problems.push({ phase: user.phase, what: `page error: ${err.message}` }));
  page.on("requestfailed", (req) => {
    user.problems.push({ phase: user.phase, what: `failed: ${req.method()} ${req.url()} ${req.failure()?.errorText}` });
  });
  page.on("response", (res) => {
    if (res.status() >= 400) user.problems.push({ phase: user.phase, what: `HTTP ${res.status()}: ${res.url()}` });
  });
  page.on("websocket", () => user.websockets++);
  return user;
}

// problems returns what went wrong on a page outside the restart, when the browser
// rightly reports the refused connections.
const problems = (u) => u.problems.filter((p) => p.phase !== "restart");

async function shot(u, name) {
  const prefix = scenario === "chat" ? transport : scenario;
  await u.page.screenshot({ path: join(shots, `${prefix}-${name}-${u.name}.png`) });
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function signIn(u) {
  await u.page.goto(pageURL, { waitUntil: "load", timeout: T });
  await u.page.waitForLoadState("networkidle", { timeout: T }).catch(() => {});
  emit("loaded", { user: u.name });
  await shot(u, "0-signin");
  check(problems(u).length === 0, `${u.name}: problems on page load: ${JSON.stringify(problems(u))}`);
  await u.page.fill("#name", u.name);
  await u.page.click("#signin-form button");
  await u.page.waitForSelector('#status[data-state="connected"]');
  if (transport === "websocket") {
    await u.page.waitForFunction(() => document.getElementById("status").textContent.includes("websocket"));
  } else {
    check(/polling/.test(await u.page.textContent("#status")), `${u.name}: not on polling`);
  }
  u.phase = "chat";
}

async function joinChannel(u) {
  await u.page.fill("#join-name", channel);
  await u.page.click("#join-form button");
  await u.page.waitForSelector(`#channels li.active[data-key="#${channel}"]`);
}

async function presenceOf(u, names) {
  await u.page.waitForFunction((names) => {
    const seen = [...document.querySelectorAll("#presence .item")].map((b) => b.textContent.replace(" (you)", ""));
    return names.every((n) => seen.includes(n));
  }, names);
}

async function send(u, text) {
  await u.page.fill("#text", text);
  await u.page.press("#text", "Enter");
  // The server's acknowledgement turns the message's mark into "delivered".
  await u.page.waitForFunction((text) => [...document.querySelectorAll("#messages .msg.own")]
    .some((li) => li.querySelector(".text").textContent === text && li.querySelector(".state.delivered")), text);
}

async function sees(u, from, text) {
  await u.page.waitForFunction(([from, text]) => [...document.querySelectorAll("#messages .msg:not(.own)")]
    .some((li) => li.querySelector(".from").textContent === from && li.querySelector(".text").textContent === text),
  [from, text]);
}

async function typingSeen(writer, reader) {
  await writer.page.fill("#text", "");
  await writer.page.type("#text", "typ", { delay: 20 });
  await reader.page.waitForFunction((name) => document.getElementById("typing").textContent === `${name} is typing…`, writer.name);
}

async function chat(a, b, round) {
  await typingSeen(a, b);
  await shot(b, `${round}-typing`);
  await send(a, `hello from ${a.name} (${round})`);
  await sees(b, a.name, `hello from ${a.name} (${round})`);
  // The message clears the typing indicator.
  await b.page.waitForFunction(() => document.getElementById("typing").textContent === "");
  await typingSeen(b, a);
  await send(b, `hi ${a.name}, ${b.name} here (${round})`);
  await sees(a, b.name, `hi ${a.name}, ${b.name} here (${round})`);
}

async function notify(body, token) {
  const res = await fetch(`${base}/api/notify`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(T),
  });
  return { status: res.status, body: await res.json() };
}

async function waitLine(want, ms) {
  const timer = new Promise((_, reject) => setTimeout(() => reject(new Error(`no "${want}" on stdin in ${ms} ms`)), ms));
  const { value, done } = await Promise.race([lines.next(), timer]);
  check(!done && value.trim() === want, `expected "${want}" on stdin, got ${done ? "EOF" : JSON.stringify(value)}`);
}

// The chat between two users, with a server restart in the middle.
async function chatFlow(alice, bob) {
  const users = [alice, bob];
  await Promise.all(users.map(signIn));
  emit("signed-in", { transport });
  await Promise.all(users.map(joinChannel));
  await Promise.all(users.map((u) => presenceOf(u, ["alice", "bob"])));

  await chat(alice, bob, "first");
  await Promise.all(users.map((u) => shot(u, "1-chat")));
  emit("chatted");

  // A private message from alice to bob, opened from the presence list.
  await alice.page.click(`#presence .item:text-is("bob")`);
  await alice.page.waitForSelector('#directs li.active[data-key="@bob"]');
  await send(alice, "a private word for bob");
  await bob.page.waitForSelector('#directs li[data-key="@alice"] .badge');
  await bob.page.click('#directs li[data-key="@alice"] .item');
  await sees(bob, "alice", "a private word for bob");
  await shot(bob, "2-private");
  check(!(await alice.page.isVisible(`#messages .msg:not(.own)`)), "alice sees a message in her conversation with bob that she did not write");
  for (const u of users) await u.page.click(`#channels li[data-key="#${channel}"] .item`);
  emit("private");

  // A notification from plain HTTP: refused without a token, shown only on bob's page.
  check((await notify({ user: "bob", text: "nope" })).status === 401, "POST /api/notify without a token was not refused");
  const { token } = await (await fetch(`${base}/api/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "ops" }),
    signal: AbortSignal.timeout(T),
  })).json();
  const sent = await notify({ user: "bob", text: "Deploy finished" }, token);
  check(sent.status === 202 && sent.body.recipients === 1, `POST /api/notify answered ${JSON.stringify(sent)}`);
  await bob.page.waitForSelector('.toast:has-text("Deploy finished")');
  await new Promise((r) => setTimeout(r, 300)); // the toast's animation, and time for a stray one
  await shot(bob, "3-toast");
  check(await alice.page.locator(".toast").count() === 0, "alice got bob's notification");
  emit("notified");

  // A handshake without a valid token is refused.
  const refused = await alice.page.evaluate((transport) => new Promise((resolve) => {
    const opts = { auth: { token: "not-a-token" }, forceNew: true, reconnection: false };
    if (transport === "polling") opts.transports = ["polling"];
    const s = io(opts);
    const done = (v) => { clearTimeout(timer); s.close(); resolve(v); };
    const timer = setTimeout(() => done("no answer"), 10000);
    s.on("connect", () => done("connected"));
    s.on("connect_error", (err) => done(err.message));
  }), transport);
  check(refused === "unauthorized", `a bad token got "${refused}", want connect_error "unauthorized"`);
  emit("refused");

  for (const u of users) check(problems(u).length === 0, `${u.name}: ${JSON.stringify(problems(u))}`);

  // The restart: the pages must notice, reconnect by themselves with a new token, and chat.
  for (const u of users) u.phase = "restart";
  emit("restart");
  await waitLine("restarted", 60000);
  await Promise.all(users.map((u) => u.page.waitForFunction(() => {
    const s = document.getElementById("status");
    return Number(s.dataset.connects) >= 2 && s.dataset.state === "connected";
  }, null, { timeout: 30000 })));
  for (const u of users) u.phase = "after";
  await Promise.all(users.map((u) => presenceOf(u, ["alice", "bob"])));
  await chat(alice, bob, "after-restart");
  await Promise.all(users.map((u) => shot(u, "4-after-restart")));
  // The narrow layout: the sidebar is a drawer behind the menu button.
  await alice.page.setViewportSize({ width: 390, height: 760 });
  await alice.page.waitForFunction(() => document.getElementById("sidebar").getBoundingClientRect().right <= 0);
  await shot(alice, "5-narrow");
  await alice.page.click("#menu");
  await alice.page.waitForFunction(() => document.getElementById("sidebar").getBoundingClientRect().left >= 0);
  await shot(alice, "6-narrow-menu");
  emit("reconnected", { status: await alice.page.textContent("#status") });

  for (const u of users) check(problems(u).length === 0, `${u.name}: ${JSON.stringify(problems(u))}`);
  if (transport === "polling") {
    for (const u of users) check(u.websockets === 0, `${u.name} opened ${u.websockets} websocket(s) in polling mode`);
  } else {
    for (const u of users) check(u.websockets >= 2, `${u.name} opened ${u.websockets} websocket(s), want one per connection at least`);
  }
}

// Token expiry: the server disconnects a socket whose token expired (the Go side starts it
// with a short -token-ttl), and the page connects again with a new token by itself.
async function expiryFlow(carol) {
  await signIn(carol);
  await joinChannel(carol);
  await carol.page.waitForFunction(() => {
    const s = document.getElementById("status");
    return Number(s.dataset.connects) >= 2 && s.dataset.state === "connected";
  }, null, { timeout: 30000 });
  emit("reconnected", { connects: await carol.page.getAttribute("#status", "data-connects") });
  await send(carol, "still here after my token expired");
  await shot(carol, "1-after-expiry");
  check(problems(carol).length === 0, `carol: ${JSON.stringify(problems(carol))}`);
}

const users = scenario === "expiry"
  ? [await openUser("carol")]
  : [await openUser("alice"), await openUser("bob")];
emit("launched");
let failed = null;
try {
  if (scenario === "expiry") await expiryFlow(users[0]);
  else await chatFlow(users[0], users[1]);
  emit("done", { transport, scenario });
} catch (err) {
  failed = err;
  for (const u of users) await shot(u, "failed").catch(() => {});
} finally {
  for (const u of users) {
    await u.context.close().catch(() => {});
    rmSync(u.profile, { recursive: true, force: true });
  }
  stdin.close();
}
if (failed) {
  console.error(failed.stack || String(failed));
  for (const u of users) if (u.problems.length) console.error(`${u.name}:`, JSON.stringify(u.problems));
}
emit("closed");
// stdin stays open on the Go side: exit rather than wait for it.
process.exit(failed ? 1 : 0);
