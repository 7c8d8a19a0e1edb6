package engineio

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

type ctxKey string

// opaqueCtx is a context of a type package context does not make.
type opaqueCtx struct{ context.Context }

// cancelables counts the cancelable contexts of package context in the chain of ctx that
// detachContext can walk.
func cancelables(ctx context.Context) int {
	count := 0
	for ctx != nil {
		t := reflect.TypeOf(ctx)
		if contextKind(t) == "" {
			return count
		}
		if contextKind(t) == "cancelCtx" {
			count++
		}
		ctx = reflect.ValueOf(ctx).Elem().FieldByName("Context").Interface().(context.Context)
	}
	return count
}

func TestDetachContext(t *testing.T) {
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	withCancel := func(ctx context.Context) context.Context {
		ctx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		return ctx
	}
	// The chain of a request served by net/http, with values of middlewares on top.
	server := context.WithValue(context.Background(), ctxKey("server"), "srv")
	conn := withCancel(context.WithValue(server, ctxKey("local"), "addr"))
	req := withCancel(conn)
	_ = req.Done() // as a handler that watched it
	mw := context.WithValue(withCancel(context.WithValue(req, ctxKey("mw1"), "one")), ctxKey("mw2"), "two")
	shadow := context.WithValue(mw, ctxKey("mw1"), "shadowed")

	timeout, cancelTimeout := context.WithTimeout(context.WithValue(req, ctxKey("below"), "b"), time.Hour)
	defer cancelTimeout()

	tests := []struct {
		name       string
		ctx        context.Context
		want       map[string]string
		cancelable int // left in the walkable part of the result
	}{
		{"ok, net/http's chain", req, map[string]string{"server": "srv", "local": "addr"}, 0},
		{"ok, values above and between", mw, map[string]string{"server": "srv", "local": "addr", "mw1": "one", "mw2": "two"}, 0},
		{"ok, a shadowed key", shadow, map[string]string{"mw1": "shadowed", "mw2": "two", "local": "addr"}, 0},
		{"ok, no cancelable context", server, map[string]string{"server": "srv"}, 0},
		{"ok, a context of another type", context.WithValue(withCancel(opaqueCtx{mw}), ctxKey("top"), "t"),
			map[string]string{"top": "t", "mw1": "one", "server": "srv"}, 0},
		{"ok, WithTimeout", context.WithValue(timeout, ctxKey("top"), "t"),
			map[string]string{"top": "t", "below": "b", "local": "addr"}, 0},
	}
	detached := make([]context.Context, len(tests))
	for i, tt := range tests {
		detached[i] = detachContext(tt.ctx)
		if n := cancelables(detached[i]); n != tt.cancelable {
			t.Errorf("%s: %d cancelable contexts left", tt.name, n)
		}
		if detached[i].Done() != nil {
			t.Errorf("%s: the detached context can be canceled", tt.name)
		}
	}
	for _, c := range cancels {
		c()
	}
	cancelTimeout()
	for i, tt := range tests {
		if err := detached[i].Err(); err != nil {
			t.Errorf("%s: detached context done after its origin was canceled: %v", tt.name, err)
		}
		if _, ok := detached[i].Deadline(); ok {
			t.Errorf("%s: detached context has a deadline", tt.name)
		}
		for k, v := range tt.want {
			if got, _ := detached[i].Value(ctxKey(k)).(string); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got, v)
			}
		}
	}
	if tests[0].ctx.Err() == nil {
		t.Fatal("the origin was not canceled")
	}
	if got := detachContext(server); got != server {
		t.Error("a chain without cancelable contexts was rebuilt")
	}
}

// The context of a request served by net/http loses its cancelable contexts and keeps the
// values net/http put there.
func TestDetachContextOfAServedRequest(t *testing.T) {
	type result struct {
		cancelable, walked int
		local              bool
	}
	got := make(chan result, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := cancelables(r.Context())
		d := detachContext(r.Context())
		_, local := d.Value(http.LocalAddrContextKey).(net.Addr)
		got <- result{cancelable: cancelables(d), walked: before, local: local && d.Value(http.ServerContextKey) != nil}
	}))
	defer hs.Close()
	res, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	r := <-got
	if r.walked == 0 || r.cancelable != 0 || !r.local {
		t.Errorf("cancelable contexts %d before, %d after; net/http's values kept: %v", r.walked, r.cancelable, r.local)
	}
}

// BenchmarkDetachContext detaches the context of a request as net/http makes it: two values
// (the server, the local address), the connection's and the request's cancelable contexts.
func BenchmarkDetachContext(b *testing.B) {
	ctx := context.WithValue(context.Background(), http.ServerContextKey, "server")
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, "address")
	conn, cancelConn := context.WithCancel(ctx)
	defer cancelConn()
	req, cancelReq := context.WithCancel(conn)
	defer cancelReq()
	b.ReportAllocs()
	for b.Loop() {
		_ = detachContext(req)
	}
}
