package clientbundle_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/echo-socketio/echo-socketio/socketio/clientbundle"
)

// A Socket.IO endpoint mounted at /socket.io/ strips its prefix and lets the
// bundle handler answer the requests for the client files.
func ExampleHandler_ServeFile() {
	bundle, err := clientbundle.New()
	if err != nil {
		log.Fatal(err)
	}
	endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/socket.io/")
		if bundle.ServeFile(w, r, name) {
			return
		}
		// Engine.IO handshakes, polling and websocket upgrades go here.
		http.Error(w, "not a client file", http.StatusBadRequest)
	})

	r := httptest.NewRequest(http.MethodGet, "/socket.io/socket.io.min.js", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	w := httptest.NewRecorder()
	endpoint.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println("Content-Encoding:", w.Header().Get("Content-Encoding"))
	fmt.Println("Vary:", w.Header().Get("Vary"))
	// Output:
	// 200 application/javascript; charset=utf-8
	// Content-Encoding: br
	// Vary: Accept-Encoding
}
