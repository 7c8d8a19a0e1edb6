package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestRefusals runs every kind of bad token (jwttest.Attacks) against one server, through
// the handshake and through the net/http middleware, which must refuse each with the same
// reason.
func TestRefusals(t *testing.T) {
	cfg := jwttest.AttackConfig(t)
	var mu sync.Mutex
	var refused []*auth.Error
	sockets := 0
	cfg.OnRefused = func(s *socketio.Socket, err *auth.Error) {
		mu.Lock()
		refused = append(refused, err)
		if s != nil {
			sockets++
		}
		mu.Unlock()
	}
	ts := newServer(t, auth.JWT(cfg), nil)
	api := auth.HTTP(cfg)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the API was reached")
	}))

	attacks := jwttest.Attacks(t)
	overHTTP := 0
	for _, c := range attacks {
		t.Run(c.Name, func(t *testing.T) {
			req := request{header: c.Header, query: c.Query}
			if c.Auth != nil {
				req.auth = c.Auth
			}
			got := ts.connect(t, req)
			if got.SID != "" {
				t.Fatalf("connected: %v", got)
			}
			if got.Message != auth.Message || got.Data["reason"] != string(c.Reason) || got.Data["code"] != 401.0 || len(got.Data) != 2 {
				t.Fatalf("got %s, want reason %q", got.Raw, c.Reason)
			}
			// Nothing about the keys reaches the client.
			for _, secret := range jwttest.Secrets {
				if strings.Contains(strings.ToLower(got.Raw), secret) {
					t.Errorf("the refusal %s mentions %q", got.Raw, secret)
				}
			}
			if r, ok := c.Request("/api/me"); ok {
				overHTTP++
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, r)
				jwttest.CheckHTTPRefusal(t, rec, c.Reason)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if sockets != len(attacks) || len(refused) != len(attacks)+overHTTP || overHTTP < len(attacks)-1 {
		t.Errorf("OnRefused called %d times (%d for sockets) for %d refusals of sockets and %d of HTTP requests", len(refused), sockets, len(attacks), overHTTP)
	}
	for _, e := range refused {
		if e.Reason != auth.ReasonMissing && errors.Unwrap(e) == nil {
			t.Errorf("refusal %v has no cause", e)
		}
	}
}
