package engineio_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// BenchmarkSendPrepared measures the send path of a broadcast: one op is one delivery of a
// prepared message to one of 100 websocket sessions, whose clients read and discard.
func BenchmarkSendPrepared(b *testing.B) {
	const n = 100
	var mu sync.Mutex
	var sessions []*engineio.Conn
	srv := engineio.NewServer(engineio.Options{MaxQueuedPackets: 1 << 20, WriteTimeout: time.Minute})
	srv.OnConnection(func(c *engineio.Conn) {
		mu.Lock()
		sessions = append(sessions, c)
		mu.Unlock()
	})
	hs := httptest.NewServer(srv)
	var readers sync.WaitGroup
	defer func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		readers.Wait()
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"
	for range n {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			_, _ = io.Copy(io.Discard, ws.UnderlyingConn())
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		mu.Lock()
		k := len(sessions)
		mu.Unlock()
		if k == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions", k)
		}
		time.Sleep(5 * time.Millisecond)
	}
	payload := []byte(`2["message","a broadcast of a few dozen bytes"]`)
	b.ReportAllocs()
	b.ResetTimer()
	var p *engineio.Prepared
	for i := range b.N {
		if i%n == 0 {
			p = engineio.NewPrepared(payload, false)
		}
		if err := sessions[i%n].SendPrepared(p); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range sessions {
		c.Flush()
	}
}
