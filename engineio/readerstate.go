package engineio

// The reader of a watched connection. A connection the poller watches is read by at most one
// goroutine at a time, which the poller starts when data arrives and none reads it; that
// reader waits (lingers) for more data before it leaves. wsNetConn.rstate tells the poller
// what the reader is doing, so that an event reaches it without a system call:
//
//	readerNone     no reader: an event starts one (onReadable, on a new goroutine)
//	readerRunning  the reader reads or handles a message: an event is recorded (readerEvent)
//	readerEvent    as readerRunning, with an event it has not seen: it reads again before it waits
//	readerWaiting  the reader waits on its wake channel: an event wakes it (readerRunning)
//
// Only the reader moves readerRunning to readerWaiting, and readerWaiting to readerNone (when
// the linger passed); an event moves readerWaiting to readerRunning and then sends one value
// on the wake channel, which the reader always receives before it reads again or leaves.
const (
	readerNone uint32 = iota
	readerRunning
	readerEvent
	readerWaiting
)

// readable passes an event of the poller to the connection's reader, starting one when there
// is none.
func (wc *wsNetConn) readable() {
	if wc.signal(true) {
		go wc.onReadable()
	}
}

// wakeReader wakes the connection's reader if one waits, so that it sees closeReq.
func (wc *wsNetConn) wakeReader() { wc.signal(false) }

// signal tells the reader that data arrived or that it must look at closeReq: a waiting
// reader is woken, a running one reads again before it waits. With no reader, and start, it
// moves the state to readerRunning for the reader the caller then starts, and reports true;
// without start it does nothing.
func (wc *wsNetConn) signal(start bool) bool {
	for {
		switch wc.rstate.Load() {
		case readerNone:
			if !start {
				return false
			}
			if wc.rstate.CompareAndSwap(readerNone, readerRunning) {
				return true
			}
		case readerRunning:
			if wc.rstate.CompareAndSwap(readerRunning, readerEvent) {
				return false
			}
		case readerEvent:
			return false
		case readerWaiting:
			if wc.rstate.CompareAndSwap(readerWaiting, readerRunning) {
				wc.wake <- struct{}{}
				return false
			}
		}
	}
}

// leaveReader ends the reader's turn when it found no data: it reports false when the
// connection has no reader from now on, and true, with the state back to readerRunning, when
// an event came since the reader last looked, so that it reads again.
func (wc *wsNetConn) leaveReader() bool {
	if wc.rstate.CompareAndSwap(readerRunning, readerNone) {
		return false
	}
	wc.rstate.Store(readerRunning) // readerEvent
	return true
}
