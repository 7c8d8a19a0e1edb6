// Package metrics exports the metrics of a Socket.IO server to Prometheus.
//
// It is a package of its own so that a server that does not export metrics does not compile
// the Prometheus client. New observes a socketio.Server (and the Engine.IO server under it)
// and registers the collectors; Handler serves them at /metrics:
//
//	m, err := metrics.New(sio, metrics.Options{})
//	e.GET("/metrics", echo.WrapHandler(m.Handler()))
//
// The metrics, with their labels:
//
//	socketio_sockets{namespace}                          connected sockets (gauge)
//	socketio_connections_total{namespace}                sockets connected
//	socketio_disconnections_total{namespace,reason}      sockets disconnected, by reason
//	socketio_events_received_total{namespace}            events received from clients
//	socketio_events_sent_total{namespace}                events sent to clients: direct emits and broadcast deliveries
//	socketio_broadcasts_total{namespace}                 broadcast packets delivered to the local sockets
//	socketio_broadcast_deliveries_total{namespace}       sockets a broadcast packet was queued for
//	socketio_slow_consumer_drops_total{namespace,action} packets that did not fit in a send queue: action "volatile_dropped" or "disconnected"
//	socketio_acks_received_total{namespace}              acknowledgements received for emits with an ack
//	socketio_ack_timeouts_total{namespace}               acknowledgements missing at their timeout
//	socketio_adapter_request_duration_seconds{namespace,op}  adapter requests (histogram)
//	socketio_adapter_errors_total{namespace,op}          adapter requests that failed
//	engineio_sessions                                    open Engine.IO sessions (gauge)
//	engineio_messages_received_total, engineio_messages_sent_total
//	engineio_received_bytes_total, engineio_sent_bytes_total
//	engineio_upgrades_total                              sessions upgraded from polling to websocket
//	engineio_handshake_refusals_total{reason}            handshakes refused, by the protocol error message
//
// Namespaces label most metrics: a server with very many dynamic namespaces makes as many
// series.
package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Options configures New. The zero value is ready to use.
type Options struct {
	// Registry receives the collectors and is what Handler serves. Default: a new registry
	// that also holds the Go runtime and process collectors.
	Registry *prometheus.Registry
	// AdapterBuckets are the buckets, in seconds, of the adapter request duration histogram.
	// Default prometheus.DefBuckets.
	AdapterBuckets []float64
}

// Metrics holds the collectors of one server.
type Metrics struct {
	reg *prometheus.Registry

	sockets           *prometheus.GaugeVec
	connections       *prometheus.CounterVec
	disconnections    *prometheus.CounterVec
	eventsIn          *prometheus.CounterVec
	eventsOut         *prometheus.CounterVec
	broadcasts        *prometheus.CounterVec
	deliveries        *prometheus.CounterVec
	drops             *prometheus.CounterVec
	acks              *prometheus.CounterVec
	ackTimeouts       *prometheus.CounterVec
	adapterDuration   *prometheus.HistogramVec
	adapterErrors     *prometheus.CounterVec
	in, out           traffic // Engine.IO messages and bytes
	upgrades          prometheus.Counter
	handshakeRefusals *prometheus.CounterVec

	nsps sync.Map // namespace name -> *nspMetrics
}

// nspMetrics are the counters of one namespace, looked up once.
type nspMetrics struct {
	sockets                                                        prometheus.Gauge
	connections, eventsIn, eventsOut, broadcasts, deliveries, acks prometheus.Counter
}

// New registers the metrics of sio and of its Engine.IO server, and starts observing them.
// Call it before sio handles requests. It fails when a collector cannot be registered, such
// as when the registry already holds the metrics of another server.
func New(sio *socketio.Server, opts Options) (*Metrics, error) {
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	buckets := opts.AdapterBuckets
	if len(buckets) == 0 {
		buckets = prometheus.DefBuckets
	}
	nsp := []string{"namespace"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		reg:               reg,
		sockets:           prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "socketio_sockets", Help: "Sockets connected, by namespace."}, nsp),
		connections:       counter("socketio_connections_total", "Sockets connected to a namespace.", nsp...),
		disconnections:    counter("socketio_disconnections_total", "Sockets disconnected from a namespace, by reason.", "namespace", "reason"),
		eventsIn:          counter("socketio_events_received_total", "Events received from clients.", nsp...),
		eventsOut:         counter("socketio_events_sent_total", "Events sent to clients: direct emits and broadcast deliveries.", nsp...),
		broadcasts:        counter("socketio_broadcasts_total", "Broadcast packets delivered to the local sockets of a namespace.", nsp...),
		deliveries:        counter("socketio_broadcast_deliveries_total", "Sockets a broadcast packet was queued for.", nsp...),
		drops:             counter("socketio_slow_consumer_drops_total", "Packets that did not fit in a client's send queue, by action: volatile_dropped or disconnected.", "namespace", "action"),
		acks:              counter("socketio_acks_received_total", "Acknowledgements received for emits with an ack.", nsp...),
		ackTimeouts:       counter("socketio_ack_timeouts_total", "Acknowledgements missing at their timeout.", nsp...),
		adapterDuration:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "socketio_adapter_request_duration_seconds", Help: "Duration of the adapter requests that may reach other servers.", Buckets: buckets}, []string{"namespace", "op"}),
		adapterErrors:     counter("socketio_adapter_errors_total", "Adapter requests that failed.", "namespace", "op"),
		upgrades:          prometheus.NewCounter(prometheus.CounterOpts{Name: "engineio_upgrades_total", Help: "Sessions upgraded from polling to websocket."}),
		handshakeRefusals: counter("engineio_handshake_refusals_total", "Handshakes refused, by the protocol error message.", "reason"),
	}
	eio := sio.Engine()
	sessions := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "engineio_sessions", Help: "Open Engine.IO sessions."},
		func() float64 { return float64(eio.Count()) })
	all := []prometheus.Collector{
		m.sockets, m.connections, m.disconnections, m.eventsIn, m.eventsOut, m.broadcasts, m.deliveries,
		m.drops, m.acks, m.ackTimeouts, m.adapterDuration, m.adapterErrors, m.upgrades, m.handshakeRefusals, sessions,
	}
	all = append(all, m.in.collectors(
		prometheus.CounterOpts{Name: "engineio_messages_received_total", Help: "Engine.IO messages received from clients."},
		prometheus.CounterOpts{Name: "engineio_received_bytes_total", Help: "Bytes of the Engine.IO messages received from clients."})...)
	all = append(all, m.out.collectors(
		prometheus.CounterOpts{Name: "engineio_messages_sent_total", Help: "Engine.IO messages written to clients."},
		prometheus.CounterOpts{Name: "engineio_sent_bytes_total", Help: "Bytes of the Engine.IO messages written to clients."})...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	sio.Observe(m.socketObserver())
	eio.Observe(m.engineObserver())
	return m, nil
}

// socketObserver counts the events of the Socket.IO server. A broadcast is counted once per
// packet, with the number of its receivers, not once per receiver.
func (m *Metrics) socketObserver() socketio.Observer {
	return socketio.Observer{
		SocketConnected: func(s *socketio.Socket) {
			n := m.nsp(s.Namespace().Name())
			n.sockets.Inc()
			n.connections.Inc()
		},
		SocketDisconnected: func(s *socketio.Socket, reason socketio.DisconnectReason) {
			name := s.Namespace().Name()
			m.nsp(name).sockets.Dec()
			m.disconnections.WithLabelValues(name, string(reason)).Inc()
		},
		EventReceived: func(s *socketio.Socket, _ string, _ socketio.Args) {
			m.nsp(s.Namespace().Name()).eventsIn.Inc()
		},
		EventSent: func(s *socketio.Socket, _ string, _ []any) {
			m.nsp(s.Namespace().Name()).eventsOut.Inc()
		},
		BroadcastDelivered: func(name string, sockets int) {
			n := m.nsp(name)
			n.broadcasts.Inc()
			n.deliveries.Add(float64(sockets))
			n.eventsOut.Add(float64(sockets))
		},
		SlowConsumer: func(_ socketio.EngineConn, name string, volatile bool) {
			action := "disconnected"
			if volatile {
				action = "volatile_dropped"
			}
			m.drops.WithLabelValues(name, action).Inc()
		},
		AckReceived: func(name string) { m.nsp(name).acks.Inc() },
		AckTimedOut: func(name string, missing int) {
			m.ackTimeouts.WithLabelValues(name).Add(float64(missing))
		},
		AdapterRequest: func(name, op string, d time.Duration, err error) {
			m.adapterDuration.WithLabelValues(name, op).Observe(d.Seconds())
			if err != nil {
				m.adapterErrors.WithLabelValues(name, op).Inc()
			}
		},
	}
}

// engineObserver counts the sessions, messages and bytes of the Engine.IO server.
func (m *Metrics) engineObserver() engineio.Observer {
	return engineio.Observer{
		Upgraded: func(*engineio.Conn) { m.upgrades.Inc() },
		HandshakeRefused: func(_ *http.Request, err *engineio.Error) {
			m.handshakeRefusals.WithLabelValues(refusalReason(err)).Inc()
		},
		MessageReceived: func(_ *engineio.Conn, size int) { m.in.add(size) },
		MessageSent:     func(_ *engineio.Conn, size int) { m.out.add(size) },
	}
}

// nsp returns the counters of namespace name.
func (m *Metrics) nsp(name string) *nspMetrics {
	if v, ok := m.nsps.Load(name); ok {
		return v.(*nspMetrics)
	}
	n := &nspMetrics{
		sockets:     m.sockets.WithLabelValues(name),
		connections: m.connections.WithLabelValues(name),
		eventsIn:    m.eventsIn.WithLabelValues(name),
		eventsOut:   m.eventsOut.WithLabelValues(name),
		broadcasts:  m.broadcasts.WithLabelValues(name),
		deliveries:  m.deliveries.WithLabelValues(name),
		acks:        m.acks.WithLabelValues(name),
	}
	v, _ := m.nsps.LoadOrStore(name, n)
	return v.(*nspMetrics)
}

// refusalReason is the label of a refused handshake: the protocol's message for the error's
// code. A refusal by AllowRequest, whose message is the application's, counts as Forbidden.
func refusalReason(err *engineio.Error) string {
	if err.Code == engineio.ErrForbidden.Code {
		return engineio.ErrForbidden.Message
	}
	return err.Message
}

// Registry returns the registry the metrics are registered with.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry's metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
