package engineio

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Error is a request error of the Engine.IO protocol. It carries the protocol code and message
// that the official server sends in its JSON error body, and the HTTP status of the response.
type Error struct {
	// Code is the protocol error code, from 0 (transport unknown) to 5 (unsupported protocol
	// version).
	Code int
	// Message is the protocol error message, such as "Session ID unknown".
	Message string
	// Status is the HTTP status of the error response.
	Status int
}

// Error returns the message prefixed with the package name and the protocol code.
func (e *Error) Error() string {
	return "engineio: " + e.Message + " (code " + strconv.Itoa(e.Code) + ")"
}

// Is reports whether target is an *Error with the same code, so that an error built with a
// custom message (a refusal from AllowRequest, say) still matches its sentinel.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// The request errors, with the codes and messages of the official server.
var (
	ErrTransportUnknown    = &Error{Code: 0, Message: "Transport unknown", Status: http.StatusBadRequest}
	ErrUnknownSID          = &Error{Code: 1, Message: "Session ID unknown", Status: http.StatusBadRequest}
	ErrBadHandshakeMethod  = &Error{Code: 2, Message: "Bad handshake method", Status: http.StatusBadRequest}
	ErrBadRequest          = &Error{Code: 3, Message: "Bad request", Status: http.StatusBadRequest}
	ErrForbidden           = &Error{Code: 4, Message: "Forbidden", Status: http.StatusForbidden}
	ErrUnsupportedProtocol = &Error{Code: 5, Message: "Unsupported protocol version", Status: http.StatusBadRequest}
	errServerShuttingDown  = &Error{Code: 3, Message: "Server shutting down", Status: http.StatusServiceUnavailable}
	errMethodNotAllowed    = &Error{Code: 3, Message: "Bad request", Status: http.StatusMethodNotAllowed}
)

// Errors returned by the methods of Conn and Server.
var (
	// ErrClosed is returned when sending on a closed session.
	ErrClosed = errors.New("engineio: session closed")
	// ErrQueueFull is returned by Send when the session's send queue is full: the peer does not
	// read as fast as the application writes.
	ErrQueueFull = errors.New("engineio: send queue full")
)

// writeError writes e as the official server does: a JSON body {"code":N,"message":"..."}.
func writeError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// refuse answers a request that cannot be served. A websocket handshake is refused as the
// official server refuses it: status 400 whatever the error, the message as a text body, and
// the connection closed. Other requests get writeError's JSON answer.
func refuse(w http.ResponseWriter, r *http.Request, e *Error) {
	if !isUpgradeRequest(r) {
		writeError(w, e)
		return
	}
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(e.Message)))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, e.Message)
}

// isUpgradeRequest reports whether r asks for a websocket handshake.
func isUpgradeRequest(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
