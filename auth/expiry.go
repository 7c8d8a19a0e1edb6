package auth

import (
	"math"
	"time"
	"weak"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// pendingRetry is how often, and pendingRetries how many times, an expiry that fires before
// the socket finished connecting is tried again.
const (
	pendingRetry   = 100 * time.Millisecond
	pendingRetries = 50
)

// watchExpiry disconnects s at exp. The timer belongs to the socket: it stops when the socket
// disconnects. It holds the socket weakly, so a socket that a later middleware refuses (and
// that therefore never disconnects) is not kept alive until its token expires.
func watchExpiry(s *socketio.Socket, exp time.Time) {
	ws := weak.Make(s)
	tries := 0
	var t *time.Timer
	fire := func() {
		s := ws.Value()
		if s == nil {
			return
		}
		if !s.Connected() {
			select {
			case <-s.Done():
				return
			default:
			}
			// Still connecting (the middlewares after this one run), or refused: look again
			// for a while.
			if tries++; tries <= pendingRetries {
				t.Reset(pendingRetry)
			}
			return
		}
		_ = s.Emit(ExpiredEvent, Data{Code: 401, Reason: ReasonExpired})
		s.Disconnect(false)
	}
	// Armed after t is set, so that fire always sees it.
	t = time.AfterFunc(math.MaxInt64, fire)
	t.Reset(time.Until(exp))
	s.OnDisconnect(func(socketio.DisconnectReason) { t.Stop() })
}
