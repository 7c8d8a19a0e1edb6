package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// PingInterval is how long the reader waits for a message before it checks the
	// connection with a PING.
	PingInterval = 30 * time.Second
	// BackoffMin and backoffMax bound the pause between two failed receives.
	BackoffMin = 50 * time.Millisecond
	BackoffMax = 2 * time.Second
	// maxBatch is the largest number of messages published in one round trip.
	maxBatch = 256
)

// PubItem is one message to publish. done, when not nil, receives the outcome.
type PubItem struct {
	Channel string
	payload []byte
	done    chan error
	// Entry, when not nil, makes the item an XADD of entry to the stream named channel;
	// entryID then receives the ID Redis gave it, before done is told.
	Entry   *redis.XAddArgs
	entryID *string
}

// Publisher sends messages to Redis in order from one goroutine, pipelining those that wait
// together: PUBLISH for the classic adapter, SPUBLISH for the sharded one.
type Publisher struct {
	client  redis.UniversalClient
	sharded bool
	queue   chan PubItem
	ctx     context.Context // the adapter's, ended by Close
	timeout time.Duration
	report  func(error)
}

func NewPublisher(ctx context.Context, client redis.UniversalClient, sharded bool, size int, timeout time.Duration, report func(error)) *Publisher {
	return &Publisher{client: client, sharded: sharded, queue: make(chan PubItem, size), ctx: ctx, timeout: timeout, report: report}
}

// Async queues a message without waiting. A failed publication goes to the report hook.
func (p *Publisher) Async(channel string, payload []byte) error {
	return p.AsyncItem(PubItem{Channel: channel, payload: payload})
}

// AsyncItem queues it without waiting.
func (p *Publisher) AsyncItem(it PubItem) error {
	if p.ctx.Err() != nil {
		return ErrClosed
	}
	select {
	case p.queue <- it:
		return nil
	default:
		err := fmt.Errorf("%w: dropped a message for %s", ErrPublishQueueFull, it.Channel)
		p.report(err)
		return err
	}
}

// Sync queues a message and waits until Redis has it, or ctx ends.
func (p *Publisher) Sync(ctx context.Context, channel string, payload []byte) error {
	return p.SyncItem(ctx, PubItem{Channel: channel, payload: payload})
}

// SyncItem queues it and waits until Redis has it, or ctx ends.
func (p *Publisher) SyncItem(ctx context.Context, it PubItem) error {
	it.done = make(chan error, 1)
	select {
	case p.queue <- it:
	case <-p.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", it.Channel, ctx.Err())
	}
	select {
	case err := <-it.done:
		return err
	case <-p.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: publish to %s: %w", it.Channel, ctx.Err())
	}
}

// Run is the publisher goroutine: it sends the queued messages in order, several per round
// trip, until the context ends.
func (p *Publisher) Run() {
	batch := make([]PubItem, 0, maxBatch)
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
func (p *Publisher) send(batch []PubItem) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	cmds := make([]redis.Cmder, len(batch))
	_, err := p.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, it := range batch {
			if it.Entry != nil {
				cmds[i] = pipe.XAdd(ctx, it.Entry)
			} else if p.sharded {
				cmds[i] = pipe.SPublish(ctx, it.Channel, it.payload)
			} else {
				cmds[i] = pipe.Publish(ctx, it.Channel, it.payload)
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
			e = fmt.Errorf("redisadapter: publish to %s: %w", it.Channel, e)
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

// Sleep waits d, or less when ctx ends first; it reports whether it waited d.
func Sleep(ctx context.Context, d time.Duration) bool {
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
