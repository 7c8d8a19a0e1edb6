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
// With CHAT_SCENARIO=cluster, two instances share their rooms through Redis: alice's page is on
// CHAT_URL, bob's on CHAT_URL2. They chat in one channel, see each other online and typing,
// exchange a private message, and POST /api/notify on alice's instance, with a token from bob's,
// reaches bob's page.
//
// Environment: CHAT_URL (the server, required), CHAT_URL2 (the second instance, required with
// the cluster scenario), CHAT_TRANSPORT ("polling" forces the client to long-polling; anything
// else lets it upgrade to websocket), CHAT_SCENARIO ("chat", "expiry" or "cluster"),
// SCREENSHOT_DIR (where the screenshots go), CHROMIUM (the browser, /usr/bin/chromium by
// default).
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
const scenario = ["expiry", "cluster"].includes(process.env.CHAT_SCENARIO) ? process.env.CHAT_SCENARIO : "chat";
const base2 = process.env.CHAT_URL2;
if (scenario === "cluster" && !base2) throw new Error("CHAT_URL2 is not set");
const shots = process.env.SCREENSHOT_DIR || "test-results/echo-chat";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const pageURL = (server) => transport === "polling" ? `${server}/?transport=polling` : `${server}/`;
const channel = "dev";
const T = 30000; // the default timeout of every wait (generous: CI machines are shared)

mkdirSync(shots, { recursive: true });
const started = Date.now();
const emit = (event, fields = {}) => console.log(JSON.stringify({ event, ms: Date.now() - started, ...fields }));
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();

// Each user gets a browser of their own with a fresh --user-data-dir, and opens the page of
// server.
async function openUser(name, server = base) {
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
  const user = { name, server, profile, context, page, problems: [], phase: "load", websockets: 0 };
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
  await u.page.goto(pageURL(u.server), { waitUntil: "load", timeout: T });
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

async function login(server, name) {
  const res = await fetch(`${server}/api/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(T),
  });
  check(res.status === 200, `POST ${server}/api/login answered ${res.status}`);
  return (await res.json()).token;
}

async function notify(body, token, server = base) {
  const res = await fetch(`${server}/api/notify`, {
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
  const token = await login(base, "ops");
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

// Two instances on one Redis: alice on the first, bob on the second.
async function clusterFlow(alice, bob) {
  const users = [alice, bob];
  check(alice.server !== bob.server, "alice and bob are on the same instance");
  await Promise.all(users.map(signIn));
  emit("signed-in", { alice: alice.server, bob: bob.server });
  // Both at once: the list of one join may miss the other user and arrive last, and the page
  // must keep the newest list.
  await Promise.all(users.map(joinChannel));
  await Promise.all(users.map((u) => presenceOf(u, ["alice", "bob"])));
  await new Promise((r) => setTimeout(r, 300)); // time for a late list to arrive
  await Promise.all(users.map((u) => presenceOf(u, ["alice", "bob"])));
  emit("presence");

  await chat(alice, bob, "across");
  await Promise.all(users.map((u) => shot(u, "1-chat")));
  emit("chatted");

  // A private message from alice to bob: the server of alice finds bob on the other one.
  await alice.page.click(`#presence .item:text-is("bob")`);
  await alice.page.waitForSelector('#directs li.active[data-key="@bob"]');
  await send(alice, "a private word across instances");
  await bob.page.waitForSelector('#directs li[data-key="@alice"] .badge');
  await bob.page.click('#directs li[data-key="@alice"] .item');
  await sees(bob, "alice", "a private word across instances");
  await shot(bob, "2-private");
  for (const u of users) await u.page.click(`#channels li[data-key="#${channel}"] .item`);
  emit("private");

  // POST /api/notify on alice's instance, with a token signed by bob's: bob's page shows it,
  // and alice's does not.
  const token = await login(bob.server, "ops");
  const sent = await notify({ user: "bob", text: "Deploy finished" }, token, alice.server);
  check(sent.status === 202 && sent.body.recipients === 1, `POST /api/notify answered ${JSON.stringify(sent)}`);
  await bob.page.waitForSelector('.toast:has-text("Deploy finished")');
  await new Promise((r) => setTimeout(r, 300)); // the toast's animation, and time for a stray one
  await shot(bob, "3-toast");
  check(await alice.page.locator(".toast").count() === 0, "alice got bob's notification");
  const channelSent = await notify({ channel, text: "Standup in 5" }, token, alice.server);
  check(channelSent.status === 202 && channelSent.body.recipients === 2, `POST /api/notify to #${channel} answered ${JSON.stringify(channelSent)}`);
  await Promise.all(users.map((u) => u.page.waitForSelector('.toast:has-text("Standup in 5")')));
  emit("notified");

  for (const u of users) check(problems(u).length === 0, `${u.name}: ${JSON.stringify(problems(u))}`);

  // bob leaves: alice's list, sent by bob's instance when his socket is gone, has only her.
  bob.phase = "closed";
  await bob.page.close();
  await alice.page.waitForFunction(() => {
    const seen = [...document.querySelectorAll("#presence .item")].map((b) => b.textContent.replace(" (you)", ""));
    return seen.length === 1 && seen[0] === "alice";
  });
  await shot(alice, "4-bob-left");
  emit("left");
  check(problems(alice).length === 0, `alice: ${JSON.stringify(problems(alice))}`);
}

const users = scenario === "expiry"
  ? [await openUser("carol")]
  : scenario === "cluster"
    ? [await openUser("alice", base), await openUser("bob", base2)]
    : [await openUser("alice"), await openUser("bob")];
emit("launched");
let failed = null;
try {
  if (scenario === "expiry") await expiryFlow(users[0]);
  else if (scenario === "cluster") await clusterFlow(users[0], users[1]);
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
