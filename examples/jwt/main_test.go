package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOneKey signs in, then uses the token on the API (sioecho.JWT) and on the socket
// (auth.JWT), which refuse a forged token with the same reason.
func TestOneKey(t *testing.T) {
	e, sio := newApp([]byte("a test key of at least thirty-two bytes"), time.Minute)
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(ctx)
	}()

	do := func(method, path, body string, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := do(http.MethodPost, "/login", url.Values{"user": {"ada"}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var login struct{ Token string }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &login) != nil || login.Token == "" {
		t.Fatalf("login: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "/api/me", "", nil); code != http.StatusUnauthorized || !strings.Contains(body, `"reason":"missing"`) {
		t.Fatalf("API without a token: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "/", "", nil); code != http.StatusOK || !strings.Contains(body, "/socket.io/socket.io.js") {
		t.Fatalf("page: %d", code)
	}

	// The socket, over polling: handshake, CONNECT with the token, then the answer.
	connect := func(token string) string {
		_, open := do(http.MethodGet, "/socket.io/?EIO=4&transport=polling", "", nil)
		var hs struct{ SID string }
		if err := json.Unmarshal([]byte(strings.TrimPrefix(open, "0")), &hs); err != nil {
			t.Fatalf("handshake %q", open)
		}
		path := "/socket.io/?EIO=4&transport=polling&sid=" + hs.SID
		auth, _ := json.Marshal(map[string]string{"token": token})
		do(http.MethodPost, path, "40"+string(auth), nil)
		_, answer := do(http.MethodGet, path, "", nil)
		do(http.MethodPost, path, "1", nil) // close
		return answer
	}
	if got := connect("forged." + login.Token); !strings.Contains(got, `"reason":"malformed"`) {
		t.Fatalf("forged token: %s", got)
	}
	if got := connect(login.Token); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("socket refused: %s", got)
	}
	if code, body := do(http.MethodGet, "/api/me", "", map[string]string{"Authorization": "Bearer forged." + login.Token}); code != http.StatusUnauthorized || !strings.Contains(body, `"reason":"malformed"`) {
		t.Fatalf("API with a forged token: %d %s", code, body)
	}
	code, body = do(http.MethodGet, "/api/me", "", map[string]string{"Authorization": "Bearer " + login.Token})
	if code != http.StatusOK || !strings.Contains(body, `"name":"ada"`) {
		t.Fatalf("API with the token: %d %s", code, body)
	}
}
