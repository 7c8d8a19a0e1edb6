package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
)

func TestAPI(t *testing.T) {
	key := []byte("test key")
	e, sio := newApp(key, time.Minute, socketio.Options{})
	t.Cleanup(func() { _ = sio.Shutdown(t.Context()) })
	do := func(method, path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	rec := do(http.MethodPost, "/api/login", "", `{"name":" ada "}`)
	var got struct{ Token, Name string }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Name != "ada" {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	other, _, _ := issue([]byte("other key"), "ada", time.Minute)
	expired, _, _ := issue(key, "ada", -time.Minute)

	tests := []struct {
		name, path, token, body string
		want                    int
	}{
		{"ok, page", "/", "", "", http.StatusOK},
		{"ok, client bundle", "/socket.io/socket.io.js", "", "", http.StatusOK},
		{"ok, notify a user", "/api/notify", got.Token, `{"user":"bob","text":"hi"}`, http.StatusAccepted},
		{"ok, notify a channel", "/api/notify", got.Token, `{"channel":"general","text":"hi"}`, http.StatusAccepted},
		{"nok, login without a name", "/api/login", "", `{"name":"  "}`, http.StatusBadRequest},
		{"nok, login with a long name", "/api/login", "", `{"name":"` + strings.Repeat("a", 25) + `"}`, http.StatusBadRequest},
		{"nok, notify without a token", "/api/notify", "", `{"user":"bob","text":"hi"}`, http.StatusUnauthorized},
		{"nok, notify with another key's token", "/api/notify", other, `{"user":"bob","text":"hi"}`, http.StatusUnauthorized},
		{"nok, notify with an expired token", "/api/notify", expired, `{"user":"bob","text":"hi"}`, http.StatusUnauthorized},
		{"nok, notify a user and a channel", "/api/notify", got.Token, `{"user":"bob","channel":"general","text":"hi"}`, http.StatusBadRequest},
		{"nok, notify without a text", "/api/notify", got.Token, `{"user":"bob"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == "" {
				method = http.MethodGet
			}
			if rec := do(method, tt.path, tt.token, tt.body); rec.Code != tt.want {
				t.Errorf("%s %s: %d %s, want %d", method, tt.path, rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestHistoryIsBounded(t *testing.T) {
	c := newChat(nil)
	for i := range historySize + 10 {
		m, err := newMessage("ada", strings.Repeat("x", i+1))
		if err != nil {
			t.Fatal(err)
		}
		m.Channel = "general"
		c.remember(m)
	}
	h := c.recent("general")
	if len(h) != historySize || len(h[0].Text) != 11 {
		t.Fatalf("history has %d messages, the oldest of %d bytes; want %d, the oldest of 11", len(h), len(h[0].Text), historySize)
	}
	if _, err := newMessage("ada", " "); err == nil {
		t.Error("an empty message was accepted")
	}
	if _, err := newMessage("ada", strings.Repeat("x", maxText+1)); err == nil {
		t.Error("a message over maxText was accepted")
	}
}
