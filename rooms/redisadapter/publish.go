package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// pingInterval is how long the reader waits for a message before it checks the
	// connection with a PING.
	pingInterval = 30 * time.Second
	// backoffMin and backoffMax bound the pause between two failed receives.
	backoffMin = 50 * time.Millisecond
	backoffMax = 2 * time.Second
	// maxBatch is the largest number of messages published in one round trip.
	maxBatch = 256
)

// pubItem is one message to publish. done, when not nil, receives the outcome.
type pubItem struct {
	channel string
	payload []byte
	done    chan error
}

// publishAsync queues a message without waiting. The outcome of the publication goes to
// Options.OnError when it fails.
func (a *Adapter) publishAsync(channel string, payload []byte) error {
	if a.ctx.Err() != nil {
		return ErrClosed
	}
	select {
	case a.pubq <- pubItem{channel: channel, payload: payload}:
		return nil
	default:
		err := fmt.Errorf("%w: dropped a message for %s", ErrPublishQueueFull, channel)
		a.report(err)
		return err
	}
}

// publishSync queues a message and waits until Redis has it, or ctx ends.
func (a *Adapter) publishSync(ctx context.Context, channel string, payload []byte) error {
	it := pubItem{channel: channel, payload: payload, done: make(chan error, 1)}
	select {
	case a.pubq <- it:
	case <-a.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", channel, ctx.Err())
	}
	select {
	case err := <-it.done:
		return err
	case <-a.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", channel, ctx.Err())
	}
}

// publish is the publisher goroutine: it sends the queued messages in order, several per
// round trip, until Close.
func (a *Adapter) publish() {
	defer a.wg.Done()
	batch := make([]pubItem, 0, maxBatch)
	for {
		select {
		case <-a.ctx.Done():
			return
		case it := <-a.pubq:
			batch = append(batch[:0], it)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case it := <-a.pubq:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		a.send(batch)
		clear(batch)
	}
}

// send publishes a batch in one pipeline and tells each waiter its outcome.
func (a *Adapter) send(batch []pubItem) {
	ctx, cancel := context.WithTimeout(a.ctx, a.opts.RequestsTimeout)
	defer cancel()
	cmds := make([]*redis.IntCmd, len(batch))
	_, err := a.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, it := range batch {
			cmds[i] = p.Publish(ctx, it.channel, it.payload)
		}
		return nil
	})
	var reported bool
	for i, it := range batch {
		e := err
		if cmds[i] != nil && cmds[i].Err() != nil {
			e = cmds[i].Err()
		}
		if e != nil {
			e = fmt.Errorf("redisadapter: publish to %s: %w", it.channel, e)
			if it.done == nil && !reported && a.ctx.Err() == nil {
				a.report(e)
				reported = true
			}
		}
		if it.done != nil {
			it.done <- e
		}
	}
}

// sleep waits d, or less when ctx ends first; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// isTimeout reports whether err is the read timeout of an idle subscription.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
