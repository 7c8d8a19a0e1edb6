package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// traffic counts the Engine.IO messages of one direction and their bytes: two atomic adds on
// one cache line per message, read at scrape time. A prometheus.Counter pair costs two cache
// lines and a float check per message; spreading the counts over shards cost more than it
// saved on two cores (BenchmarkObserverPerDelivery).
type traffic struct {
	messages, bytes atomic.Uint64
	_               [48]byte // the rest of the cache line: the other direction's counters have their own
}

// add counts one message of size bytes.
func (t *traffic) add(size int) {
	t.messages.Add(1)
	t.bytes.Add(uint64(size))
}

// collectors returns the two counters of t, messages and bytes, read at scrape time.
func (t *traffic) collectors(messages, bytes prometheus.CounterOpts) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(messages, func() float64 { return float64(t.messages.Load()) }),
		prometheus.NewCounterFunc(bytes, func() float64 { return float64(t.bytes.Load()) }),
	}
}
