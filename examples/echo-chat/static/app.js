// The page of echo-chat: plain JavaScript over the official Socket.IO client, which the
// server serves at /socket.io/socket.io.js.
"use strict";

const $ = (id) => document.getElementById(id);

// Conversations are keyed "#channel" or "@user".
const state = {
  name: "",
  socket: null,
  convs: new Map(),
  current: "",
  lastChannel: "",
  typing: new Map(), // channel -> Map(user -> timer)
  typingSent: 0,
  typingTimer: 0,
};

// ---- Sign in -----------------------------------------------------------------------------

async function login(name) {
  const res = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `sign-in failed (${res.status})`);
  return body;
}

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("signin-error").textContent = "";
  try {
    const { name } = await login($("name").value.trim());
    start(name);
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
});

$("signout").addEventListener("click", () => {
  sessionStorage.removeItem("echo-chat.name");
  if (state.socket) state.socket.disconnect();
  location.reload();
});

function start(name) {
  state.name = name;
  sessionStorage.setItem("echo-chat.name", name);
  $("me").textContent = `Signed in as ${name}`;
  $("signin").hidden = true;
  $("app").hidden = false;
  openConv("#general");
  connect();
  $("text").focus();
}

// ---- Connection --------------------------------------------------------------------------

function connect() {
  const opts = {
    // A fresh token for every connection attempt, so reconnecting after a restart or after
    // the token expired just works.
    auth: (cb) => {
      login(state.name).then(({ token }) => cb({ token }), () => cb({}));
    },
  };
  const transport = new URLSearchParams(location.search).get("transport");
  if (transport === "polling" || transport === "websocket") opts.transports = [transport];

  const socket = io(opts);
  state.socket = socket;

  socket.on("connect", () => {
    const badge = $("status");
    badge.dataset.connects = String(Number(badge.dataset.connects) + 1);
    showTransport();
    socket.io.engine.once("upgrade", showTransport);
    for (const conv of state.convs.values()) {
      if (conv.kind === "channel") join(conv.name);
    }
    renderComposer();
  });
  socket.on("disconnect", (reason) => {
    setStatus("reconnecting", "Reconnecting…");
    renderComposer();
    // The server ended the session on purpose: the client does not retry by itself.
    if (reason === "io server disconnect") retry();
  });
  socket.on("connect_error", (err) => {
    setStatus("reconnecting", "Reconnecting…");
    // A refused handshake is not retried by the client; ask again with a new token.
    if (!socket.active) retry();
    console.info("connect_error:", err.message);
  });
  socket.io.on("reconnect_attempt", (n) => setStatus("reconnecting", `Reconnecting… (${n})`));
  socket.io.on("reconnect_failed", () => setStatus("offline", "Offline"));

  socket.on("message", (m) => addMessage(`#${m.channel}`, m));
  socket.on("private", (m) => addMessage(`@${m.from === state.name ? m.to : m.from}`, m, true));
  socket.on("presence", ({ channel, users, at }) => {
    const conv = state.convs.get(`#${channel}`);
    // A list fetched before the one already shown can arrive after it: it is out of date.
    if (!conv || at < (conv.presenceAt || 0)) return;
    conv.users = users;
    conv.presenceAt = at;
    renderPresence();
  });
  socket.on("typing", ({ channel, user, typing }) => setTyping(channel, user, typing));
  socket.on("notification", (n) => {
    toast(n.channel ? `${n.from} to #${n.channel}` : `Notification from ${n.from}`, n.text);
  });
}

function retry() {
  setTimeout(() => {
    if (!state.socket.connected && !state.socket.active) state.socket.connect();
  }, 1000 + Math.random() * 1000);
}

function showTransport() {
  const name = state.socket.io.engine ? state.socket.io.engine.transport.name : "";
  setStatus("connected", `Connected · ${name}`);
}

function setStatus(s, text) {
  const badge = $("status");
  badge.dataset.state = s;
  badge.textContent = text;
}

// ---- Channels and conversations ------------------------------------------------------------

function openConv(key) {
  let conv = state.convs.get(key);
  if (!conv) {
    const kind = key[0] === "#" ? "channel" : "direct";
    conv = { key, kind, name: key.slice(1), messages: [], users: [], unread: 0 };
    state.convs.set(key, conv);
    if (kind === "channel" && state.socket && state.socket.connected) join(conv.name);
  }
  conv.unread = 0;
  state.current = key;
  if (conv.kind === "channel") state.lastChannel = key;
  $("sidebar").classList.remove("open");
  render();
  return conv;
}

function join(channel) {
  state.socket.timeout(10000).emit("join", channel, (err, res) => {
    if (err || res.error) {
      toast(`Could not join #${channel}`, err ? "The server did not answer." : res.error);
      return;
    }
    for (const m of res.history || []) addMessage(`#${channel}`, m, false, true);
    renderMessages();
  });
}

function leave(channel) {
  if (state.socket.connected) state.socket.emit("leave", channel);
  state.convs.delete(`#${channel}`);
  state.typing.delete(channel);
  if (state.lastChannel === `#${channel}`) state.lastChannel = "";
  if (state.current === `#${channel}`) {
    const next = [...state.convs.keys()].find((k) => k[0] === "#") || [...state.convs.keys()][0];
    state.current = next || "";
    if (next && next[0] === "#") state.lastChannel = next;
  }
  render();
}

$("join-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = $("join-name").value.trim().toLowerCase().replace(/^#/, "");
  if (!name) return;
  $("join-name").value = "";
  openConv(`#${name}`);
  $("text").focus();
});

$("menu").addEventListener("click", () => $("sidebar").classList.toggle("open"));

// ---- Messages ------------------------------------------------------------------------------

function addMessage(key, m, open = false, quiet = false) {
  let conv = state.convs.get(key);
  if (!conv) {
    if (!open) return;
    conv = { key, kind: "direct", name: key.slice(1), messages: [], users: [], unread: 0 };
    state.convs.set(key, conv);
  }
  if (conv.messages.some((x) => x.id === m.id)) return;
  conv.messages.push({ ...m, state: m.from === state.name ? "delivered" : "" });
  conv.messages.sort((a, b) => new Date(a.at) - new Date(b.at));
  if (m.channel) setTyping(m.channel, m.from, false);
  if (quiet) return;
  if (key !== state.current) conv.unread++;
  render();
}

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const conv = state.convs.get(state.current);
  const text = $("text").value.trim();
  if (!conv || !text || !state.socket.connected) return;
  $("text").value = "";
  sendTyping(false);

  const m = { id: `local-${Date.now()}`, from: state.name, text, at: new Date().toISOString(), state: "pending" };
  conv.messages.push(m);
  renderMessages();

  const [event, payload] = conv.kind === "channel"
    ? ["message", { channel: conv.name, text }]
    : ["private", { to: conv.name, text }];
  // The server's acknowledgement is the delivered mark.
  state.socket.timeout(10000).emit(event, payload, (err, res) => {
    if (err || res.error) {
      m.state = "failed";
      toast("Message not sent", err ? "The server did not answer." : res.error);
    } else {
      Object.assign(m, res.message, { state: "delivered" });
    }
    renderMessages();
  });
});

// ---- Typing indicator ----------------------------------------------------------------------

$("text").addEventListener("input", () => {
  const typing = $("text").value.trim() !== "";
  if (!typing) return sendTyping(false);
  if (Date.now() - state.typingSent > 2000) sendTyping(true);
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => sendTyping(false), 3000);
});

function sendTyping(typing) {
  const conv = state.convs.get(state.current);
  clearTimeout(state.typingTimer);
  state.typingSent = typing ? Date.now() : 0;
  if (conv && conv.kind === "channel" && state.socket && state.socket.connected) {
    state.socket.volatile.emit("typing", { channel: conv.name, typing });
  }
}

function setTyping(channel, user, typing) {
  let users = state.typing.get(channel);
  if (!users) state.typing.set(channel, (users = new Map()));
  clearTimeout(users.get(user));
  users.delete(user);
  // A "stopped typing" that never arrives expires on its own.
  if (typing) users.set(user, setTimeout(() => setTyping(channel, user, false), 5000));
  renderTyping();
}

// ---- Toasts --------------------------------------------------------------------------------

function toast(title, text) {
  const el = document.createElement("div");
  el.className = "toast";
  el.setAttribute("role", "status");
  const strong = document.createElement("strong");
  strong.textContent = title;
  el.append(strong, document.createTextNode(text));
  el.addEventListener("click", () => el.remove());
  $("toasts").append(el);
  setTimeout(() => el.remove(), 8000);
}

// ---- Rendering -----------------------------------------------------------------------------

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render() {
  renderSidebar();
  renderMessages();
  renderTyping();
  renderPresence();
  renderComposer();
}

function renderSidebar() {
  const item = (conv, label) => {
    const li = el("li", conv.key === state.current ? "active" : "");
    li.dataset.key = conv.key;
    const open = el("button", "item", label);
    open.type = "button";
    open.addEventListener("click", () => openConv(conv.key));
    li.append(open);
    if (conv.unread) li.append(el("span", "badge", String(conv.unread)));
    return li;
  };
  const channels = [];
  const directs = [];
  for (const conv of state.convs.values()) {
    if (conv.kind === "channel") {
      const li = item(conv, `# ${conv.name}`);
      const x = el("button", "leave", "×");
      x.type = "button";
      x.title = `Leave #${conv.name}`;
      x.setAttribute("aria-label", x.title);
      x.addEventListener("click", () => leave(conv.name));
      li.append(x);
      channels.push(li);
    } else {
      directs.push(item(conv, `@ ${conv.name}`));
    }
  }
  if (!channels.length) channels.push(el("li", "empty", "Join a channel below."));
  if (!directs.length) directs.push(el("li", "empty", "Click a name below to write privately."));
  $("channels").replaceChildren(...channels);
  $("directs").replaceChildren(...directs);
  const conv = state.convs.get(state.current);
  $("title").textContent = conv ? `${conv.kind === "channel" ? "#" : "@"}${conv.name}` : "echo-chat";
  document.title = conv ? `${$("title").textContent} · echo-chat` : "echo-chat";
}

function renderMessages() {
  const conv = state.convs.get(state.current);
  const list = $("messages");
  if (!conv) {
    list.replaceChildren(el("li", "notice", "Join a channel to start chatting."));
    return;
  }
  const items = conv.messages.map((m) => {
    const own = m.from === state.name;
    const li = el("li", own ? "msg own" : "msg");
    li.dataset.id = m.id;
    const meta = el("div", "meta");
    const time = el("time", "", new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    time.dateTime = m.at;
    meta.append(el("span", "from", own ? "You" : m.from), time);
    if (own) {
      const label = { pending: "Sending…", delivered: "✓ Delivered", failed: "Not sent" }[m.state] || "";
      meta.append(el("span", `state ${m.state}`, label));
    }
    li.append(meta, el("div", "text", m.text));
    return li;
  });
  if (!items.length) {
    const where = conv.kind === "channel" ? `in #${conv.name}` : `with ${conv.name}`;
    items.push(el("li", "notice", `No messages ${where} yet. Say hello!`));
  }
  list.replaceChildren(...items);
  list.scrollTop = list.scrollHeight;
}

function renderTyping() {
  const conv = state.convs.get(state.current);
  const users = conv && conv.kind === "channel" ? [...(state.typing.get(conv.name) || new Map()).keys()] : [];
  $("typing").textContent =
    users.length === 0 ? "" :
    users.length === 1 ? `${users[0]} is typing…` :
    `${users.slice(0, -1).join(", ")} and ${users[users.length - 1]} are typing…`;
}

function renderPresence() {
  const conv = state.convs.get(state.lastChannel);
  $("presence-title").textContent = conv ? `Online in #${conv.name}` : "Online";
  const items = (conv ? conv.users : []).map((user) => {
    const li = el("li");
    const b = el("button", "item", user === state.name ? `${user} (you)` : user);
    b.type = "button";
    if (user === state.name) b.disabled = true;
    else {
      b.title = `Write to ${user} privately`;
      b.addEventListener("click", () => openConv(`@${user}`));
    }
    li.append(b);
    return li;
  });
  if (!items.length) items.push(el("li", "empty", "Nobody here yet."));
  $("presence").replaceChildren(...items);
}

function renderComposer() {
  const conv = state.convs.get(state.current);
  const ok = Boolean(conv && state.socket && state.socket.connected);
  $("text").disabled = !ok;
  $("composer").querySelector("button").disabled = !ok;
  $("text").placeholder = !conv ? "Join a channel first"
    : !ok ? "Waiting for the connection…"
    : conv.kind === "channel" ? `Message #${conv.name}` : `Message ${conv.name} privately`;
}

// ---- Start ---------------------------------------------------------------------------------

const saved = sessionStorage.getItem("echo-chat.name");
if (saved) start(saved);
