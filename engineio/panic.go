package engineio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// PanicError reports a panic in application code that the server recovered: a connection
// hook, a message or close handler, or AllowRequest. It reaches the hook set with
// Server.OnError.
type PanicError struct {
	// Where names the application code that panicked, such as "OnMessage".
	Where string
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the goroutine that panicked, as debug.Stack formats it.
	Stack []byte
}

// Error describes the panic, without the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("engineio: panic in %s: %v", e.Where, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// OnError sets the hook that receives the errors the server cannot return to a caller: panics
// of application code, as *PanicError. Without a hook they are logged at level Error as
// "recovered panic", with their stacks, to Options.Logger. Set it before the server handles requests.
func (s *Server) OnError(fn func(err error)) { s.onError.Store(&fn) }

func (s *Server) reportError(err error) {
	if fn := s.onError.Load(); fn != nil {
		(*fn)(err)
		return
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		s.logger.Error("recovered panic", slog.String("where", pe.Where),
			slog.String("panic", fmt.Sprint(pe.Value)), slog.String("stack", string(pe.Stack)))
		return
	}
	s.logger.Error("engineio error", slog.Any("error", err))
}

// protect runs application code named where. A panic is recovered and reported; protect then
// returns false.
func (s *Server) protect(where string, fn func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			s.reportError(&PanicError{Where: where, Value: r, Stack: debug.Stack()})
		}
	}()
	fn()
	return true
}
