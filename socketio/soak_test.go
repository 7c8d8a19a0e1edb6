package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// soakConfig comes from the environment: SOAK_CONNECTIONS (the least number of connections
// to open and close, default 2,000), SOAK_DURATION (the least time to run, default 30 s) and
// SOAK_CONCURRENCY (connections open at once, default 64). `make soak` runs a long one.
type soakConfig struct {
	connections, concurrency int
	duration                 time.Duration
}

func soakFromEnv(t *testing.T) soakConfig {
	c := soakConfig{connections: 2000, concurrency: 64, duration: 30 * time.Second}
	if v := os.Getenv("SOAK_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("SOAK_CONNECTIONS=%q", v)
		}
		c.connections = n
	}
	if v := os.Getenv("SOAK_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("SOAK_CONCURRENCY=%q", v)
		}
		c.concurrency = n
	}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SOAK_DURATION=%q", v)
		}
		c.duration = d
	}
	return c
}

// TestSoak opens and closes connections over both transports for a while, each one
// connecting, joining a room, emitting to it, getting the broadcast back and disconnecting,
// while others broadcast to the whole namespace. Afterwards the server's goroutines and live
// heap must come back to their baseline.
func TestSoak(t *testing.T) {
	cfg := soakFromEnv(t)
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(room string, ack socketio.Ack) {
			s.Join(room)
			_ = ack()
		})
		s.On("say", func(room, msg string) { _ = io.To(room).Emit("msg", msg) })
		s.On("shout", func(msg string) { _ = io.Volatile().Emit("all", msg) })
	})
	srv := httptest.NewServer(io)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	}()
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * cfg.concurrency, IdleConnTimeout: 5 * time.Second}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	// Warm up at full concurrency, then take the baseline: the runtime keeps the descriptors
	// of goroutines that have ended for reuse, so the peak's count must be reached before.
	var warm sync.WaitGroup
	warmErrs := make(chan error, cfg.concurrency)
	for w := range cfg.concurrency {
		warm.Add(1)
		go func() {
			defer warm.Done()
			if err := soakOnce(srv.URL, client, w+1, w%2 == 0); err != nil {
				warmErrs <- err
			}
		}()
	}
	warm.Wait()
	close(warmErrs)
	if err := <-warmErrs; err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	tr.CloseIdleConnections()
	waitUntil(t, "the warm-up sessions to close", 30*time.Second, func() bool { return io.Engine().Count() == 0 })
	time.Sleep(200 * time.Millisecond)
	baseG, baseHeap := runtime.NumGoroutine(), liveHeap()

	start := time.Now()
	var done, failed, polling, seq atomic.Int64
	seq.Store(int64(cfg.concurrency)) // the warm-up used the numbers below
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for w := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if time.Since(start) > cfg.duration && done.Load()+failed.Load() >= int64(cfg.connections) {
					return
				}
				if time.Since(start) > cfg.duration+10*time.Minute {
					return
				}
				usePolling := (w+i)%2 == 1
				if err := soakOnce(srv.URL, client, int(seq.Add(1)), usePolling); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				done.Add(1)
				if usePolling {
					polling.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	tr.CloseIdleConnections()

	// Afterwards: no session left, goroutines and heap back to the baseline.
	var g int
	waitUntil(t, "the sessions to close", 60*time.Second, func() bool { return io.Engine().Count() == 0 })
	waitUntil(t, "the goroutines to return to the baseline", 60*time.Second, func() bool {
		tr.CloseIdleConnections()
		g = runtime.NumGoroutine()
		return g <= baseG+4
	})
	heap := liveHeap()
	summary := fmt.Sprintf("soak: %d connections (%d websocket, %d polling, %d failed) in %v, %d at once; goroutines %d before, %d after; live heap %.1f MiB before, %.1f MiB after",
		done.Load(), done.Load()-polling.Load(), polling.Load(), failed.Load(), elapsed.Round(time.Second), cfg.concurrency,
		baseG, g, float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
	t.Log(summary)
	fmt.Println(summary)
	if p := firstErr.Load(); p != nil {
		t.Fatalf("%d connections failed; the first: %v", failed.Load(), *p)
	}
	if done.Load() < int64(cfg.connections) {
		t.Fatalf("%d connections, want %d", done.Load(), cfg.connections)
	}
	if heap > baseHeap+8<<20 {
		t.Fatalf("live heap %d MiB after the soak, %d MiB before", heap>>20, baseHeap>>20)
	}
}

// soakOnce runs the life of one connection: CONNECT, join a room, emit to it and get the
// broadcast back, disconnect.
func soakOnce(base string, client *http.Client, n int, usePolling bool) error {
	var c soakConn
	var err error
	if usePolling {
		c, err = dialSoakPolling(base, client)
	} else {
		c, err = dialSoakWS(base)
	}
	if err != nil {
		return err
	}
	defer c.close()
	room := "r" + strconv.Itoa(n%50)
	msg := "m" + strconv.Itoa(n)
	steps := []struct{ send, want string }{
		{"40", `40{"sid":"`},
		{`420["join","` + room + `"]`, `430[]`},
		{`42["say","` + room + `","` + msg + `"]`, `42["msg","` + msg + `"]`},
	}
	for _, st := range steps {
		if err := c.send(st.send); err != nil {
			return err
		}
		if err := c.until(st.want); err != nil {
			return fmt.Errorf("after %s: %w", st.send, err)
		}
	}
	if n%200 == 0 { // a broadcast to every socket: rare, or the receivers fall a whole queue behind
		if err := c.send(`42["shout","` + msg + `"]`); err != nil {
			return err
		}
	}
	return c.send("41")
}

type soakConn interface {
	send(frame string) error
	until(prefix string) error // reads until a message starting with prefix
	close()
}

type soakWS struct{ ws *websocket.Conn }

func dialSoakWS(base string) (*soakWS, error) {
	d := websocket.Dialer{HandshakeTimeout: 60 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, err
	}
	c := &soakWS{ws: ws}
	if err := c.until("0{"); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

func (c *soakWS) send(frame string) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(60 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, []byte(frame))
}

func (c *soakWS) until(prefix string) error {
	_ = c.ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, m, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if string(m) == "2" {
			if err := c.send("3"); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(string(m), prefix) {
			return nil
		}
	}
}

func (c *soakWS) close() { c.ws.Close() }

type soakPolling struct {
	client    *http.Client
	url       string
	pending   []string
	last      string
	closeOnce sync.Once
}

func dialSoakPolling(base string, client *http.Client) (*soakPolling, error) {
	c := &soakPolling{client: client, url: base + "/socket.io/?EIO=4&transport=polling"}
	if err := c.until("0{"); err != nil {
		return nil, err
	}
	open := c.last
	const prefix = `0{"sid":"`
	if !strings.HasPrefix(open, prefix) || len(open) < len(prefix)+20 {
		return nil, fmt.Errorf("handshake %q", open)
	}
	c.url += "&sid=" + open[len(prefix):len(prefix)+20]
	return c, nil
}

func (c *soakPolling) send(frame string) error {
	res, err := c.client.Post(c.url, "text/plain;charset=UTF-8", strings.NewReader(frame))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d", frame, res.StatusCode)
	}
	return nil
}

func (c *soakPolling) until(prefix string) error {
	for {
		for len(c.pending) > 0 {
			m := c.pending[0]
			c.pending = c.pending[1:]
			switch {
			case m == "2":
				if err := c.send("3"); err != nil {
					return err
				}
			case m == "1":
				return errors.New("session closed")
			case strings.HasPrefix(m, prefix):
				c.last = m
				return nil
			}
		}
		res, err := c.client.Get(c.url)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET: status %d %s", res.StatusCode, b)
		}
		c.pending = append(c.pending, strings.Split(string(b), "\x1e")...)
	}
}

func (c *soakPolling) close() {
	c.closeOnce.Do(func() { _ = c.send("1") })
}
