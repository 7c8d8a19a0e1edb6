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
	// entry, when not nil, makes the item an XADD of entry to the stream named channel;
	// entryID then receives the ID Redis gave it, before done is told.
	entry   *redis.XAddArgs
	entryID *string
}

// publisher sends messages to Redis in order from one goroutine, pipelining those that wait
// together: PUBLISH for the classic adapter, SPUBLISH for the sharded one.
type publisher struct {
	client  redis.UniversalClient
	sharded bool
	queue   chan pubItem
	ctx     context.Context // the adapter's, ended by Close
	timeout time.Duration
	report  func(error)
}

func newPublisher(ctx context.Context, client redis.UniversalClient, sharded bool, size int, timeout time.Duration, report func(error)) *publisher {
	return &publisher{client: client, sharded: sharded, queue: make(chan pubItem, size), ctx: ctx, timeout: timeout, report: report}
}

// async queues a message without waiting. A failed publication goes to the report hook.
func (p *publisher) async(channel string, payload []byte) error {
	return p.asyncItem(pubItem{channel: channel, payload: payload})
}

// asyncItem queues it without waiting.
func (p *publisher) asyncItem(it pubItem) error {
	if p.ctx.Err() != nil {
		return ErrClosed
	}
	select {
	case p.queue <- it:
		return nil
	default:
		err := fmt.Errorf("%w: dropped a message for %s", ErrPublishQueueFull, it.channel)
		p.report(err)
		return err
	}
}

// sync queues a message and waits until Redis has it, or ctx ends.
func (p *publisher) sync(ctx context.Context, channel string, payload []byte) error {
	return p.syncItem(ctx, pubItem{channel: channel, payload: payload})
}

// syncItem queues it and waits until Redis has it, or ctx ends.
func (p *publisher) syncItem(ctx context.Context, it pubItem) error {
	it.done = make(chan error, 1)
	select {
	case p.queue <- it:
	case <-p.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", it.channel, ctx.Err())
	}
	select {
	case err := <-it.done:
		return err
	case <-p.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", it.channel, ctx.Err())
	}
}

// run is the publisher goroutine: it sends the queued messages in order, several per round
// trip, until the context ends.
func (p *publisher) run() {
	batch := make([]pubItem, 0, maxBatch)
	for {
		select {
		case <-p.ctx.Done():
			return
		case it := <-p.queue:
			batch = append(batch[:0], it)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case it := <-p.queue:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		p.send(batch)
		clear(batch)
	}
}

// send publishes a batch in one pipeline and tells each waiter its outcome.
func (p *publisher) send(batch []pubItem) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	cmds := make([]redis.Cmder, len(batch))
	_, err := p.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, it := range batch {
			if it.entry != nil {
				cmds[i] = pipe.XAdd(ctx, it.entry)
			} else if p.sharded {
				cmds[i] = pipe.SPublish(ctx, it.channel, it.payload)
			} else {
				cmds[i] = pipe.Publish(ctx, it.channel, it.payload)
			}
		}
		return nil
	})
	var reported bool
	for i, it := range batch {
		e := err
		if cmds[i] != nil && cmds[i].Err() != nil {
			e = cmds[i].Err()
		}
		if e == nil && it.entryID != nil {
			*it.entryID = cmds[i].(*redis.StringCmd).Val()
		}
		if e != nil {
			e = fmt.Errorf("redisadapter: publish to %s: %w", it.channel, e)
			if it.done == nil && !reported && p.ctx.Err() == nil {
				p.report(e)
				reported = true
			}
		}
		if it.done != nil {
			it.done <- e
		}
	}
}

// publishAsync queues a message without waiting. The outcome of the publication goes to
// Options.OnError when it fails.
func (a *Adapter) publishAsync(channel string, payload []byte) error {
	return a.pub.async(channel, payload)
}

// publishSync queues a message and waits until Redis has it, or ctx ends.
func (a *Adapter) publishSync(ctx context.Context, channel string, payload []byte) error {
	return a.pub.sync(ctx, channel, payload)
}

// publish is the publisher goroutine of the adapter.
func (a *Adapter) publish() {
	defer a.wg.Done()
	a.pub.run()
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
