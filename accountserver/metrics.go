package accountserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics live in the server's own registry, so several servers (tests, signet dev) coexist.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	notifySent   prometheus.Counter
	notifyFailed prometheus.Counter
	notifyReply  *prometheus.CounterVec
	natsRequests *prometheus.CounterVec
	storeErrors  prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "signet_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"route"}),
		notifySent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signet_notifications_sent_total", Help: "Account update notifications published to NATS (counted when handed to the connection; one whose flush then fails is counted as failed too, and sent again).",
		}),
		notifyFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signet_notifications_failed_total", Help: "Notifications that could not be published (retried) or that a server answered with an error.",
		}),
		notifyReply: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_notification_replies_total", Help: "Server answers to update notifications.",
		}, []string{"result"}),
		natsRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_nats_requests_total", Help: "Resolver protocol requests answered, by kind.",
		}, []string{"kind"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signet_store_errors_total", Help: "Failed store writes.",
		}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(m.requests, m.latency, m.notifySent, m.notifyFailed, m.notifyReply, m.natsRequests, m.storeErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "signet_store_accounts", Help: "Accounts served from the store (their JWT read, its issuer trusted).",
		}, func() float64 { served, _ := s.servedLen(); return float64(served) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "signet_store_accounts_unread", Help: "Accounts of the directory store whose file was not read yet: their issuer is checked when read, and they count in signet_store_accounts if it is trusted.",
		}, func() float64 { _, unread := s.servedLen(); return float64(unread) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "signet_nats_connected", Help: "1 when the NATS connection is up.",
		}, func() float64 {
			if s.NATSConnected() {
				return 1
			}
			return 0
		}),
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts and times a route. The per-code counters are looked up once per code.
func (m *metrics) instrument(route string, h http.HandlerFunc) http.Handler {
	obs := m.latency.WithLabelValues(route)
	byCode := map[int]prometheus.Counter{}
	for _, c := range []int{200, 304, 400, 403, 404, 409, 413, 500, 503} {
		byCode[c] = m.requests.WithLabelValues(route, strconv.Itoa(c))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		if c, ok := byCode[code]; ok {
			c.Inc()
		} else {
			m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		}
		obs.Observe(time.Since(start).Seconds())
	})
}
