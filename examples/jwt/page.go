package main

// page signs in, calls the API with the token and opens a socket with the same token. When
// the server disconnects the socket because the token expired, it signs in again and
// reconnects: the auth callback reads the current token at every connection attempt.
const page = `<!doctype html>
<meta charset="utf-8">
<title>One key for HTTP and Socket.IO</title>
<form id="login"><input name="user" placeholder="name" required> <button>Sign in</button></form>
<pre id="log"></pre>
<script src="/socket.io/socket.io.js"></script>
<script>
const log = (...a) => { document.getElementById("log").textContent += a.join(" ") + "\n"; };
let token = null, user = null;

async function signIn() {
  const res = await fetch("/login", { method: "POST", body: new URLSearchParams({ user }) });
  token = (await res.json()).token;
  const me = await fetch("/api/me", { headers: { Authorization: "Bearer " + token } });
  log("API:", JSON.stringify(await me.json()));
}

const socket = io({ autoConnect: false, auth: (cb) => cb({ token }) });
socket.on("connect", async () => log("socket connected as", await socket.emitWithAck("whoami")));
socket.on("connect_error", (err) => log("refused:", err.message, JSON.stringify(err.data)));
socket.on("auth_expired", (data) => log("token expired:", JSON.stringify(data)));
socket.on("disconnect", async (reason) => {
  log("disconnected:", reason);
  if (reason === "io server disconnect") { // the server ended the session: sign in again
    await signIn();
    socket.connect();
  }
});

document.getElementById("login").onsubmit = async (ev) => {
  ev.preventDefault();
  user = new FormData(ev.target).get("user");
  await signIn();
  socket.connect();
};
</script>
`
