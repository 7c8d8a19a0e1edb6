package socketio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// PanicError reports a panic in application code that the server recovered: a middleware,
// hook, handler, listener, acknowledgement callback, namespace matcher or adapter callback. It
// reaches the server's error hook (Server.OnError) and, when the code belonged to a socket, the
// socket's (Socket.OnError); the socket is then disconnected with ReasonHandlerPanic.
type PanicError struct {
	// Where names the application code that panicked, such as "packet middleware".
	Where string
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the goroutine that panicked, as debug.Stack formats it.
	Stack []byte
}

// Error describes the panic, without the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("socketio: panic in %s: %v", e.Where, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// OnError sets the server's error hook. It receives the panics of application code
// (*PanicError, with the stack) and of the Engine.IO layer (*engineio.PanicError), wherever
// they happened. Without a hook they are logged at level Error as "recovered panic", with
// the attributes where, panic and stack, to Options.Logger.
// Set it before the server handles requests.
func (s *Server) OnError(fn func(err error)) { s.onError.Store(&fn) }

func (s *Server) reportError(err error) {
	if fn := s.onError.Load(); fn != nil {
		func() {
			defer func() { _ = recover() }() // a panicking error hook has no one to report to
			(*fn)(err)
		}()
		return
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		s.logger.Error("recovered panic", slog.String("where", pe.Where),
			slog.String("panic", fmt.Sprint(pe.Value)), slog.String("stack", string(pe.Stack)))
		return
	}
	var ee *engineio.PanicError
	if errors.As(err, &ee) {
		s.logger.Error("recovered panic", slog.String("where", ee.Where),
			slog.String("panic", fmt.Sprint(ee.Value)), slog.String("stack", string(ee.Stack)))
		return
	}
	s.logger.Error("socketio error", slog.Any("error", err))
}

// protect runs application code named where. A panic is recovered and reported to the
// server's error hook; protect then returns the *PanicError.
func (s *Server) protect(where string, fn func()) (perr *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = s.recovered(where, r)
		}
	}()
	fn()
	return nil
}

// protectHandler is protect for the handler of event, named "handler of <event quoted>": the
// name is written only when the handler panicked.
func (s *Server) protectHandler(event string, fn func()) (perr *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = s.recovered("handler of "+strconv.Quote(event), r)
		}
	}()
	fn()
	return nil
}

// recovered reports the panic value r, recovered from the application code named where, to
// the server's error hook, and returns it as a *PanicError.
func (s *Server) recovered(where string, r any) *PanicError {
	perr := &PanicError{Where: where, Value: r, Stack: debug.Stack()}
	s.reportError(perr)
	return perr
}

// protect runs application code of the socket named where. A panic is recovered, reported to
// the server's and the socket's error hooks, and disconnects the socket with
// ReasonHandlerPanic; protect then returns false.
func (s *Socket) protect(where string, fn func()) bool {
	return s.survived(s.nsp.server.protect(where, fn))
}

// protectHandler is protect for the handler of event; see Server.protectHandler.
func (s *Socket) protectHandler(event string, fn func()) bool {
	return s.survived(s.nsp.server.protectHandler(event, fn))
}

// survived reports whether the socket's application code ran without panicking: perr is nil.
// Otherwise it reports the panic to the socket's error hooks and disconnects the socket.
func (s *Socket) survived(perr *PanicError) bool {
	if perr == nil {
		return true
	}
	s.reportError(perr)
	if s.Connected() {
		_ = s.client.send(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, false)
		s.onClose(ReasonHandlerPanic)
	}
	return false
}
