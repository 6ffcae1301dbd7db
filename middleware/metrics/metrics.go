package metrics

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/storage"
)

// Options configures New. Every zero field means its documented default.
type Options struct {
	// Namespace prefixes every metric name. Default: "chatwire".
	Namespace string
	// ConstLabels are added to every metric (e.g. {"instance": "a"}). Default: none.
	ConstLabels prometheus.Labels
	// HandlerBuckets are the buckets of chatwire_handler_duration_seconds, in seconds.
	// Default: DefaultHandlerBuckets (1ms to 2min: model calls are slow).
	HandlerBuckets []float64
	// StoreBuckets are the buckets of chatwire_store_duration_seconds, in seconds.
	// Default: DefaultStoreBuckets (0.5ms to 5s).
	StoreBuckets []float64
	// ReplayBuckets are the buckets of chatwire_replayed_messages, in messages.
	// Default: DefaultReplayBuckets (1 to 1000).
	ReplayBuckets []float64
}

// Default buckets; New copies them, so changing these slices has no effect on it.
var (
	DefaultHandlerBuckets    = []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	DefaultStoreBuckets      = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	DefaultReplayBuckets     = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000}
	defaultDurationBuckets   = []float64{1, 10, 60, 300, 900, 1800, 3600, 7200, 14400}
	errAlreadyRegisteredHint = errors.New("metrics: give each Metrics its own Registerer or Namespace")
)

// Metrics holds chatwire's Prometheus collectors. Create it with New, install Hooks on the
// hub and the adapter, and wrap the store with Store to time store calls.
type Metrics struct {
	connsOpen    prometheus.Gauge
	connsTotal   prometheus.Counter
	disconnects  *prometheus.CounterVec // code
	connDuration prometheus.Histogram
	refused      *prometheus.CounterVec // status
	framesIn     *prometheus.CounterVec // type
	bytesIn      prometheus.Counter
	framesOut    *prometheus.CounterVec // type
	bytesOut     prometheus.Counter
	rejected     *prometheus.CounterVec // code
	sendFailures prometheus.Counter
	replays      prometheus.Counter
	replayed     prometheus.Histogram
	handlerTime  *prometheus.HistogramVec // outcome
	storeTime    *prometheus.HistogramVec // op, result
	open         sync.Map                 // conn id -> struct{}: connections counted in connsOpen
}

// New creates the collectors and registers them on reg (prometheus.DefaultRegisterer when
// nil). It fails when one of them is already registered there.
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "chatwire"
	}
	buckets := func(b, def []float64) []float64 {
		if len(b) == 0 {
			b = def
		}
		return append([]float64(nil), b...)
	}
	o := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels}
	}
	h := func(name, help string, b []float64) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels, Buckets: b}
	}
	m := &Metrics{
		connsOpen:    prometheus.NewGauge(prometheus.GaugeOpts(o("connections_open", "Connections being served."))),
		connsTotal:   prometheus.NewCounter(prometheus.CounterOpts(o("connections_total", "Connections accepted."))),
		disconnects:  prometheus.NewCounterVec(prometheus.CounterOpts(o("disconnections_total", "Connections ended, by WebSocket close code (1008: policy violation, slow consumer or expired credentials; 1012: drain or max age).")), []string{"code"}),
		connDuration: prometheus.NewHistogram(h("connection_duration_seconds", "How long connections lasted.", defaultDurationBuckets)),
		refused:      prometheus.NewCounterVec(prometheus.CounterOpts(o("upgrades_refused_total", "Upgrades refused by the Admit chain, by HTTP status.")), []string{"status"}),
		framesIn:     prometheus.NewCounterVec(prometheus.CounterOpts(o("frames_in_total", "Inbound frames decoded, by envelope type.")), []string{"type"}),
		bytesIn:      prometheus.NewCounter(prometheus.CounterOpts(o("frames_in_bytes_total", "Bytes of inbound frames received."))),
		framesOut:    prometheus.NewCounterVec(prometheus.CounterOpts(o("frames_out_total", "Outbound frames written, by envelope type.")), []string{"type"}),
		bytesOut:     prometheus.NewCounter(prometheus.CounterOpts(o("frames_out_bytes_total", "Bytes of outbound frames written."))),
		rejected:     prometheus.NewCounterVec(prometheus.CounterOpts(o("frames_rejected_total", "Inbound frames rejected, by code (RATE_LIMITED, INVALID_MESSAGE, MESSAGE_TOO_LARGE, INTERNAL, STORE_UNAVAILABLE, POLICY_VIOLATION, DUPLICATE).")), []string{"code"}),
		sendFailures: prometheus.NewCounter(prometheus.CounterOpts(o("send_failures_total", "Outbound frames that could not be written (the connection was then closed)."))),
		replays:      prometheus.NewCounter(prometheus.CounterOpts(o("replays_total", "Connections that were replayed stored messages on connect."))),
		replayed:     prometheus.NewHistogram(h("replayed_messages", "Stored messages replayed per replaying connection.", buckets(opts.ReplayBuckets, DefaultReplayBuckets))),
		handlerTime:  prometheus.NewHistogramVec(h("handler_duration_seconds", "Handler run time per inbound message, by outcome (ok, error).", buckets(opts.HandlerBuckets, DefaultHandlerBuckets)), []string{"outcome"}),
		storeTime:    prometheus.NewHistogramVec(h("store_duration_seconds", "Store call latency, by operation and result (ok, error).", buckets(opts.StoreBuckets, DefaultStoreBuckets)), []string{"op", "result"}),
	}
	for _, c := range []prometheus.Collector{
		m.connsOpen, m.connsTotal, m.disconnects, m.connDuration, m.refused, m.framesIn, m.bytesIn,
		m.framesOut, m.bytesOut, m.rejected, m.sendFailures, m.replays, m.replayed, m.handlerTime, m.storeTime,
	} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(err, errAlreadyRegisteredHint)
		}
	}
	return m, nil
}

// Hooks returns the hooks that feed the collectors: install them with middleware.Chain and
// the chain's Apply on the hub's Options (its Admit counts refused upgrades).
func (m *Metrics) Hooks() middleware.Hooks {
	return middleware.Hooks{
		OnRefuse:     m.refusedUpgrade,
		OnConnect:    m.connected,
		OnDisconnect: m.disconnected,
		OnFrameIn:    m.frameIn,
		OnFrameOut:   m.frameOut,
	}
}

func (m *Metrics) refusedUpgrade(_ *core.AdmitRequest, err error) {
	status, _ := adapterkit.RefusalOf(err)
	m.refused.WithLabelValues(strconv.Itoa(status)).Inc()
}

func (m *Metrics) connected(ev core.ConnEvent) {
	m.open.Store(ev.ConnID, struct{}{})
	m.connsOpen.Inc()
	m.connsTotal.Inc()
	if ev.Replayed > 0 {
		m.replays.Inc()
		m.replayed.Observe(float64(ev.Replayed))
	}
}

func (m *Metrics) disconnected(ev core.DisconnectEvent) {
	// A connection whose session could not be joined ends without OnConnect.
	if _, ok := m.open.LoadAndDelete(ev.ConnID); ok {
		m.connsOpen.Dec()
	}
	m.disconnects.WithLabelValues(strconv.Itoa(int(ev.Code))).Inc()
	m.connDuration.Observe(ev.Duration.Seconds())
}

func (m *Metrics) frameIn(ev core.FrameIn) {
	switch ev.Phase {
	case core.FrameReceived:
		m.bytesIn.Add(float64(ev.Bytes))
	case core.FrameDecoded:
		m.framesIn.WithLabelValues(typeLabel(ev.Message)).Inc()
	case core.FrameHandled:
		if ev.Duration > 0 {
			m.handlerTime.WithLabelValues("ok").Observe(ev.Duration.Seconds())
		}
	case core.FrameRejected:
		m.rejected.WithLabelValues(string(middleware.RejectionCode(ev.Err))).Inc()
		if ev.Duration > 0 { // the handler ran and failed
			m.handlerTime.WithLabelValues("error").Observe(ev.Duration.Seconds())
		}
	}
}

func (m *Metrics) frameOut(ev core.FrameOut) {
	switch ev.Phase {
	case core.FrameSent:
		m.framesOut.WithLabelValues(typeLabel(ev.Message)).Inc()
		m.bytesOut.Add(float64(ev.Bytes))
	case core.FrameSendFailed:
		m.sendFailures.Inc()
	}
}

// typeLabel bounds the type label to the envelope types.
func typeLabel(msg *core.Message) string {
	if msg == nil || !msg.Type.Valid() {
		return "other"
	}
	return string(msg.Type)
}

// observeStore records one store call.
func (m *Metrics) observeStore(op string, start time.Time, err error) {
	result := "ok"
	if err != nil && !isAnswer(err) {
		result = "error"
	}
	m.storeTime.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

// isAnswer reports whether err is a store's answer about the data (a duplicate, no such
// stream, request or conversation, an answered or expired request, a full directory, a bad
// title) rather than a failure of the store.
func isAnswer(err error) bool {
	for _, answer := range []error{storage.ErrDuplicate, storage.ErrStreamNotFound,
		storage.ErrPendingNotFound, storage.ErrPendingAnswered, storage.ErrPendingExpired,
		storage.ErrConversationNotFound, storage.ErrDirectoryFull, storage.ErrInvalidTitle} {
		if errors.Is(err, answer) {
			return true
		}
	}
	return false
}
