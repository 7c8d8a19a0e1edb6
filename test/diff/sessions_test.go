package diff_test

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	mainPath     = "/socket.io/"
	fastPath     = "/fast/" // heartbeat 400 ms + 300 ms, upgrade timeout 500 ms
	recoveryPath = "/recovery/"
)

var transports = []string{"polling", "websocket"}

// sio opens a Socket.IO connection to the main namespace of path over transport ("upgrade":
// polling, then an upgrade after the CONNECT) with the auth payload.
func sio(e *env, name, path, transport, auth string) *client {
	c := e.client(name, path)
	t := transport
	if t == "upgrade" {
		t = "polling"
	}
	if !c.open(t, "") {
		return c
	}
	if auth == "" {
		auth = `{"tag":` + strconv.Quote(e.tag) + `}` // names the session's disconnections
	}
	c.connect("/", auth)
	if transport == "upgrade" {
		c.upgrade()
	}
	return c
}

// halfUpgrade opens a polling session on path, opens a websocket for it that sends only
// first, records what that websocket gets within wait, and checks that the session goes on
// over polling.
func halfUpgrade(e *env, path, first string, wait time.Duration) {
	c := e.client("", path)
	if !c.open("polling", "") {
		return
	}
	c.connect("/", "")
	ws := c.rawWS("EIO=4&transport=websocket&sid=" + c.sid)
	if ws == nil {
		return
	}
	c.log("-> %s", first)
	_ = ws.WriteMessage(1, []byte(first))
	probe := &client{name: "probe ", tr: c.tr, ws: ws, transport: "websocket", wait: wait}
	probe.expectEnd()
	_ = ws.Close()
	c.emit("/", `["echo","still polling"]`)
	c.until("42")
}

// lastReason asks, on a second connection, for the reason of the last disconnection the
// application saw, waiting for the server to have seen it.
func lastReason(e *env, path string) {
	b := e.client("B", path)
	b.tr = newTrace() // the polling loop is not part of the trace
	if !b.open("websocket", "") {
		return
	}
	b.connect("/", "")
	deadline := time.Now().Add(readTimeout)
	var got string
	for time.Now().Before(deadline) {
		b.emit("/", `1["last-reason",`+strconv.Quote(e.tag)+`]`)
		p, ok := b.until("43")
		if !ok {
			break
		}
		got = p.text
		if got != "431[null]" {
			break
		}
		time.Sleep(20 * time.Millisecond)
		got = ""
	}
	e.tr.add("last disconnect reason seen by the application: %s", strings.TrimLeft(got, "0123456789"))
}

func sessions() []session {
	var all []session
	add := func(name string, run func(e *env)) { all = append(all, session{name, run}) }

	// Engine.IO handshakes and their errors.
	add("eio/handshake polling", func(e *env) { e.client("", mainPath).open("polling", "") })
	add("eio/handshake websocket", func(e *env) { e.client("", mainPath).open("websocket", "") })
	add("eio/handshake errors", func(e *env) {
		c := e.client("", mainPath)
		c.raw("GET", "EIO=4&transport=carrier-pigeon", "", "")
		c.raw("GET", "transport=polling", "", "")
		c.raw("GET", "EIO=3&transport=polling", "", "")
		c.raw("GET", "EIO=5&transport=polling", "", "")
		c.raw("POST", "EIO=4&transport=polling", "text/plain", "40")
		c.raw("GET", "EIO=4&transport=websocket", "", "")
		c.raw("GET", "EIO=4&transport=polling&sid=nope", "", "")
		c.raw("POST", "EIO=4&transport=polling&sid=nope", "text/plain", "40")
	})
	add("eio/websocket handshake errors", func(e *env) {
		c := e.client("", mainPath)
		c.rawWS("EIO=4&transport=websocket&sid=nope")
		c.rawWS("EIO=4&transport=carrier-pigeon")
	})
	add("eio/websocket handshake EIO=3", func(e *env) {
		c := e.client("", mainPath)
		for _, q := range []string{"EIO=3&transport=websocket", "transport=websocket"} {
			if ws := c.rawWS(q); ws != nil {
				r := &client{tr: c.tr, ws: ws, transport: "websocket", wait: 2 * time.Second}
				r.expectEnd()
				_ = ws.Close()
			}
		}
	})

	// Polling framing.
	add("eio/polling framing", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		c.connect("/", "") // events sent with the CONNECT would race its middlewares in Node
		c.send(`42["echo","a"]`, `42["burst",3]`, `42["echo","é€🎉"]`)
		time.Sleep(300 * time.Millisecond) // everything is queued when the GET comes
		c.raw("GET", c.sidQuery(), "", "")
	})
	add("eio/polling binary framing", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		c.connect("/", "")
		c.send(`42["bin"]`)
		time.Sleep(300 * time.Millisecond)
		c.raw("GET", c.sidQuery(), "", "")
	})
	add("eio/polling request errors", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		c.raw("POST", c.sidQuery(), "application/octet-stream", "40")
		c.raw("GET", c.sidQuery(), "", "")
	})
	add("eio/polling payload too large", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		c.raw("POST", c.sidQuery(), "text/plain", "4"+strings.Repeat("a", 1_000_001))
		c.connect("/", "") // the session goes on
		c.sync("/")
	})
	add("eio/overlapping polls", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		first := make(chan struct{})
		go func() {
			defer close(first)
			st, h, b := c.request("GET", c.sidQuery(), "", "")
			time.Sleep(200 * time.Millisecond) // recorded after the second one
			c.recordHTTP("first GET", st, h, b)
		}()
		time.Sleep(200 * time.Millisecond)
		c.raw("GET", c.sidQuery(), "", "")
		<-first
		c.raw("GET", c.sidQuery(), "", "")
	})
	add("eio/invalid engine packet", func(e *env) {
		c := e.client("", mainPath)
		if !c.open("polling", "") {
			return
		}
		c.raw("POST", c.sidQuery(), "text/plain", "x")
		c.raw("GET", c.sidQuery(), "", "")
	})

	// Heartbeat.
	for _, tr := range transports {
		add("eio/heartbeat "+tr, func(e *env) {
			c := sio(e, "", fastPath, tr, "")
			c.until("2")
			c.send("3")
			c.until("2")
			c.send("3")
			c.sync("/")
		})
		add("eio/ping timeout "+tr, func(e *env) {
			c := sio(e, "", fastPath, tr, "")
			c.expectGone()
			lastReason(e, fastPath)
		})
	}

	// Upgrade.
	add("eio/upgrade", func(e *env) {
		c := sio(e, "", mainPath, "upgrade", "")
		c.emit("/", `["echo","over websocket"]`)
		c.expect()
		c.raw("GET", c.sidQuery(), "", "")
	})
	add("eio/upgrade then events both ways", func(e *env) {
		c := sio(e, "", mainPath, "upgrade", "")
		c.emit("/", `1["echo-ack","x"]`)
		c.expect()
		c.emit("/", `["ask",1]`)
		q, _ := c.until("42")
		c.answer(q, `[2]`)
		c.until("42")
	})
	add("eio/upgrade abandoned after the probe", func(e *env) {
		halfUpgrade(e, fastPath, "2probe", readTimeout) // the server gives up after its upgrade timeout
	})
	add("eio/upgrade without probe", func(e *env) {
		halfUpgrade(e, mainPath, "5", 2*time.Second)
	})
	add("eio/second websocket after the upgrade", func(e *env) {
		c := sio(e, "", mainPath, "upgrade", "")
		ws := c.rawWS("EIO=4&transport=websocket&sid=" + c.sid)
		if ws != nil {
			second := &client{name: "second ", tr: c.tr, ws: ws, transport: "websocket"}
			second.expectEnd()
			_ = ws.Close()
		}
		c.sync("/")
	})
	add("eio/polling after the upgrade", func(e *env) {
		c := sio(e, "", mainPath, "upgrade", "")
		c.sync("/") // the upgrade packet has been handled
		c.raw("GET", c.sidQuery(), "", "")
		c.raw("POST", c.sidQuery(), "text/plain", `42["echo","x"]`)
		c.sync("/")
	})

	// Closes from each side on each transport.
	add("eio/client close polling with a pending poll", func(e *env) {
		c := sio(e, "", mainPath, "polling", "")
		var wg sync.WaitGroup
		var st int
		var body string
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, body = c.request("GET", c.sidQuery(), "", "")
		}()
		time.Sleep(200 * time.Millisecond)
		c.raw("POST", c.sidQuery(), "text/plain;charset=UTF-8", "1")
		wg.Wait()
		c.log("pending GET -> %d %q", st, body)
		c.raw("GET", c.sidQuery(), "", "")
		lastReason(e, mainPath)
	})
	add("eio/client close polling", func(e *env) {
		c := sio(e, "", mainPath, "polling", "")
		c.raw("POST", c.sidQuery(), "text/plain;charset=UTF-8", "1")
		c.raw("GET", c.sidQuery(), "", "")
		lastReason(e, mainPath)
	})
	add("eio/client close websocket", func(e *env) {
		c := sio(e, "", mainPath, "websocket", "")
		c.send("1") // ignored on a websocket: clients close the websocket itself
		c.sync("/")
		c.close()
		lastReason(e, mainPath)
	})
	add("eio/client drops websocket", func(e *env) {
		c := sio(e, "", mainPath, "websocket", "")
		c.drop()
		lastReason(e, mainPath)
	})
	for _, tr := range transports {
		add("eio/server close "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["close-conn"]`)
			c.expectEnd()
			lastReason(e, mainPath)
		})
	}

	// Socket.IO, on each transport.
	for _, tr := range transports {
		add("sio/connect "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `1["whoami"]`)
			c.expect()
		})
		add("sio/connect then emits from the connection handler "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, `{"welcome":true}`)
			c.until("42")
		})
		add("sio/middleware refusals "+tr, func(e *env) {
			c := e.client("", mainPath)
			if !c.open(tr, "") {
				return
			}
			c.connect("/", `{"token":"bad"}`)
			c.connect("/", `{"token":"plain"}`)
			c.connect("/guarded", "")
			c.connect("/", `{"token":"good"}`)
			c.sync("/")
		})
		add("sio/namespaces "+tr, func(e *env) {
			c := e.client("", mainPath)
			if !c.open(tr, "") {
				return
			}
			c.connect("/admin", "")
			c.expect() // the nsp event
			c.connect("/dyn-42", "")
			c.expect()
			c.connect("/nope", "")
			c.connect("/dyn-x", "")
			c.emit("/admin", `1["whoami"]`)
			c.until("43")
			c.emit("/dyn-42", `2["whoami"]`)
			c.until("43")
		})
		add("sio/multiplexing "+tr, func(e *env) {
			c := e.client("", mainPath)
			if !c.open(tr, "") {
				return
			}
			c.connect("/", "")
			c.connect("/admin", "")
			c.expect()
			c.emit("/admin", `["echo","admin"]`)
			c.expect()
			c.emit("/", `["echo","main"]`)
			c.expect()
			c.send("41/admin,")
			c.sync("/") // Node takes an event in the same read as the DISCONNECT before it
			c.emit("/admin", `["echo","gone"]`)
			c.expectEnd()
		})
		add("sio/events "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["echo"]`)
			c.expect()
			c.emit("/", `["echo",1,2.5,-300,true,null,"é€🎉","a\"b",{"k":[1,{"n":null}]},[]]`)
			c.expect()
			c.emit("/", `["echo",{}]`)
			c.expect()
			c.emit("/", `["burst",5]`)
			c.expectN(5)
			c.emit("/", `["unknown event",1]`)
			c.sync("/")
		})
		add("sio/json as written "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["echo",-3e2,1.0,"\u2028\u00e9", {"a" : 1}]`)
			c.expect()
		})
		add("sio/acks from the client "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `0["echo-ack"]`)
			c.expect()
			c.emit("/", `7["echo-ack","x",{"y":[1]}]`)
			c.expect()
			c.emit("/", `9007199254740991["echo-ack",1]`)
			c.expect()
			c.emit("/", `1["join","r1"]`)
			c.expect()
			c.emit("/", `2["whoami"]`)
			c.expect()
		})
		add("sio/acks from the server "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["ask","q",1]`)
			q, _ := c.until("42")
			c.answer(q, `["a",{"b":2}]`)
			c.until("42")
			c.emit("/", `["ask"]`)
			q, _ = c.until("42")
			c.answer(q, `[]`)
			c.until("42")
			c.send(`4399[1]`) // an answer nobody waits for
			c.sync("/")
		})
		add("sio/binary from the server "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["bin"]`)
			c.expectN(4)
		})
		add("sio/binary echo "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.send(`451-["echo",{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})
			c.sync("/")
			c.send(`452-["echo","t",{"a":{"_placeholder":true,"num":1},"b":[{"_placeholder":true,"num":0}]}]`, []byte{}, []byte{255, 0})
			c.sync("/")
		})
		add("sio/binary acks "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.send(`451-3["echo-ack",{"_placeholder":true,"num":0},"s"]`, []byte{7})
			c.sync("/")
			c.emit("/", `["ask","send me binary"]`)
			q, _ := c.until("42")
			c.answerBinary(q, `[{"f":{"_placeholder":true,"num":0}}]`, []byte{6, 6})
			c.until("45") // the application emits the answer it got
			c.expect()
		})
		add("sio/rooms and broadcasts "+tr, func(e *env) {
			a := sio(e, "A", mainPath, tr, "")
			b := sio(e, "B", mainPath, tr, "")
			b.emit("/", `1["join","room1"]`)
			b.expect()
			a.emit("/", `["to","room1","hello",{"_":1}]`)
			b.expect()
			a.emit("/", `["others","o"]`)
			b.expect()
			b.emit("/", `1["leave","room1"]`)
			b.expect()
			a.emit("/", `["to","room1","nobody"]`)
			a.sync("/")
			b.sync("/")
		})
		add("sio/binary relay to a room "+tr, func(e *env) {
			a := sio(e, "A", mainPath, tr, "")
			b := sio(e, "B", mainPath, tr, "")
			b.emit("/", `1["join","r"]`)
			b.expect()
			a.send(`451-["to","r",{"_placeholder":true,"num":0}]`, []byte{1, 2})
			a.sync("/")
			b.sync("/")
		})
		add("sio/volatile "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/", `["volatile"]`)
			c.sync("/")
		})
		add("sio/server disconnects the socket "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.connect("/admin", "")
			c.expect()
			c.emit("/", `["bye",false]`)
			c.until("41")
			c.emit("/", `["echo","after"]`) // a packet for a namespace left: the connection closes
			c.sync("/admin")
		})
		add("sio/server disconnects the connection "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.connect("/admin", "")
			c.expect()
			c.emit("/admin", `["bye",true]`)
			c.expectEnd()
			lastReason(e, mainPath)
		})
		add("sio/client disconnects "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.send("41")
			lastReason(e, mainPath)
			c.connect("/", "")
			c.sync("/")
		})
		add("sio/bad packets "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.send(`42["echo"`)
			c.expectEnd()
			lastReason(e, mainPath)
		})
		add("sio/event for a namespace not joined "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.emit("/admin", `["echo","x"]`)
			c.expectEnd()
		})
		add("sio/connect twice "+tr, func(e *env) {
			c := sio(e, "", mainPath, tr, "")
			c.send("40")
			c.expectEnd()
		})
	}

	// Recovery with every kind of emit.
	for _, tr := range append(transports, "upgrade") {
		add("recovery/every kind of emit "+tr, func(e *env) {
			a := sio(e, "A", recoveryPath, tr, "")
			a.recovery = true
			a.emit("/", `1["join","r"]`)
			a.expect()
			a.emit("/", `2["register","a"]`)
			a.expect()
			a.emit("/", `["echo","msg:first"]`) // the client now holds an offset
			a.expect()
			pid, offset := a.pid, a.offset
			a.drop()
			lastReason(e, recoveryPath)
			b := sio(e, "B", recoveryPath, "websocket", "")
			b.recovery = true
			b.emit("/", `1["emit-kinds","a","r"]`)
			b.until("43")
			r := e.client("A again", recoveryPath)
			r.recovery = true
			t := tr
			if t == "upgrade" {
				t = "polling"
			}
			if !r.open(t, "") {
				return
			}
			r.connect("/", `{"pid":"`+pid+`","offset":"`+offset+`"}`)
			r.sync("/")
			r.emit("/", `3["whoami"]`)
			r.until("43")
		})
	}
	add("recovery/direct emits then a lost connection", func(e *env) {
		a := sio(e, "A", recoveryPath, "websocket", "")
		a.recovery = true
		a.emit("/", `1["register","a"]`)
		a.expect()
		a.emit("/", `["echo","msg:one","some text"]`)
		a.expect()
		pid, offset := a.pid, a.offset
		a.drop()
		lastReason(e, recoveryPath)
		b := sio(e, "B", recoveryPath, "websocket", "")
		b.recovery = true
		b.emit("/", `1["emit-kinds","a","none"]`)
		b.until("43")
		r := e.client("A again", recoveryPath)
		r.recovery = true
		if !r.open("websocket", "") {
			return
		}
		r.connect("/", `{"pid":"`+pid+`","offset":"`+offset+`"}`)
		r.sync("/")
	})
	add("recovery/unknown session", func(e *env) {
		c := e.client("", recoveryPath)
		c.recovery = true
		if !c.open("websocket", "") {
			return
		}
		c.connect("/", `{"pid":"nope","offset":"nope"}`)
		c.sync("/")
	})
	add("recovery/not after a client disconnect", func(e *env) {
		a := sio(e, "A", recoveryPath, "websocket", "")
		a.recovery = true
		a.emit("/", `["echo","msg:x"]`)
		a.expect()
		pid, offset := a.pid, a.offset
		a.send("41")
		lastReason(e, recoveryPath)
		a.connect("/", `{"pid":"`+pid+`","offset":"`+offset+`"}`)
		a.sync("/")
	})
	return all
}
