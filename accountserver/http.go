package accountserver

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/redact"
)

// headerValues are the constant header values, allocated once per server.
type headerValues struct {
	jwt, text, json, noCache, noStore []string
}

func newHeaderValues() headerValues {
	return headerValues{
		jwt:     []string{"application/jwt"},
		text:    []string{"text/plain; charset=utf-8"},
		json:    []string{"application/json"},
		noCache: []string{"no-cache"},
		noStore: []string{"no-cache, no-store, must-revalidate"},
	}
}

// Handler is the HTTP API (also usable without Start, e.g. with httptest).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.metrics.instrument(name, h))
	}
	route("GET /jwt/v1/accounts/{$}", "accounts", s.handleAccountsRoot)
	route("GET /jwt/v1/accounts", "accounts", s.handleAccountsRoot)
	route("GET /jwt/v1/accounts/{pub}", "get_account", s.handleGet)
	route("POST /jwt/v1/accounts/{pub}", "post_account", s.handlePost)
	route("DELETE /jwt/v1/accounts/{pub}", "delete_account", s.handleDelete)
	route("GET /jwt/v1/operator", "operator", s.handleOperator)
	route("GET /jwt/v1/pack", "pack", s.handlePack)
	// The help text on its one route, as nats-account-server has it: any other path is 404,
	// so that a wrong URL is not taken for a working one.
	route("GET /jwt/v1/help", "help", s.handleHelp)
	route("GET /healthz", "healthz", s.handleHealth)
	route("GET /readyz", "readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

func (s *Server) handleAccountsRoot(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Cache-Control"] = s.hdr.noStore
	w.WriteHeader(http.StatusOK)
}

func badKey(w http.ResponseWriter, pub string) bool {
	if !nkeys.IsValidPublicAccountKey(pub) {
		httpError(w, fmt.Sprintf("%q is not an account public key", pub), http.StatusBadRequest)
		return true
	}
	return false
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	pub := r.PathValue("pub")
	if badKey(w, pub) {
		return
	}
	e, err := s.lookup(pub)
	if errors.Is(err, jwtstore.ErrNotFound) {
		httpError(w, "account not found", http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error("read account jwt", "account", pub, "err", err)
		httpError(w, "store error", http.StatusInternalServerError)
		return
	}
	var text, decode, check bool
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		text, decode, check = flag(q.Get("text")), flag(q.Get("decode")), flag(q.Get("check"))
	}
	now := time.Now().Unix()
	if check && e.Expires > 0 && e.Expires <= now {
		httpError(w, "account jwt expired", http.StatusNotFound)
		return
	}
	h := w.Header()
	etag := `"` + hex.EncodeToString(e.Hash[:]) + `"`
	h["Etag"] = []string{etag}
	if e.Expires > 0 {
		h["Cache-Control"] = []string{"max-age=" + strconv.FormatInt(max(0, e.Expires-now), 10)}
	} else {
		h["Cache-Control"] = s.hdr.noCache
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.writeToken(w, e.JWT, text, decode)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func flag(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

func (s *Server) writeToken(w http.ResponseWriter, token string, text, decode bool) {
	h := w.Header()
	switch {
	case decode:
		out, err := decodeJWT(token)
		if err != nil {
			httpError(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h["Content-Type"] = s.hdr.json
		w.Write(out)
	case text:
		h["Content-Type"] = s.hdr.text
		io.WriteString(w, token)
	default:
		h["Content-Type"] = s.hdr.jwt
		io.WriteString(w, token)
	}
}

// decodeJWT renders a JWT's header and claims as one JSON document.
func decodeJWT(token string) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("stored jwt is malformed")
	}
	var doc struct {
		Header json.RawMessage `json:"header"`
		Claims json.RawMessage `json:"claims"`
	}
	for i, dst := range []*json.RawMessage{&doc.Header, &doc.Claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || !json.Valid(raw) {
			return nil, errors.New("stored jwt is malformed")
		}
		*dst = raw
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, fmt.Sprintf("body larger than %d bytes", maxBody), http.StatusRequestEntityTooLarge)
		} else {
			httpError(w, "read body: "+err.Error(), http.StatusBadRequest)
		}
		return "", false
	}
	return string(bytes.TrimSpace(body)), true
}

// oneLine is err as answers and log lines show it: on one line, seeds redacted (a request may
// carry a seed where a public key belongs, and errors quote what they refuse).
func oneLine(err error) string {
	return redact.Seeds(strings.ReplaceAll(err.Error(), "\n", "; "))
}

// httpError answers every HTTP error of the API: the body never shows a seed, whatever the
// message quotes.
func httpError(w http.ResponseWriter, msg string, code int) {
	http.Error(w, redact.Seeds(msg), code)
}

// keyAndBody reads the account key from the path and the JWT (or delete request) from the body,
// answering the error itself when either is bad.
func keyAndBody(w http.ResponseWriter, r *http.Request) (pub, token string, ok bool) {
	pub = r.PathValue("pub")
	if badKey(w, pub) {
		return "", "", false
	}
	token, ok = readBody(w, r)
	return pub, token, ok
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	pub, token, ok := keyAndBody(w, r)
	if !ok {
		return
	}
	res, err := s.update(token, pub, fromHTTP)
	if err != nil {
		code := statusOf(err)
		if code >= 500 {
			s.log.Error("account update failed", "account", pub, "err", err)
		} else {
			s.log.Info("account update refused", "account", pub, "code", code, "reason", oneLine(err))
		}
		httpError(w, oneLine(err), code)
		return
	}
	w.Header()["Content-Type"] = s.hdr.text
	if res.changed {
		fmt.Fprintf(w, "account %s updated\n", pub)
	} else {
		fmt.Fprintf(w, "account %s unchanged\n", pub)
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	pub, token, ok := keyAndBody(w, r)
	if !ok {
		return
	}
	n, err := s.deleteAccounts(token, pub, true)
	if err != nil {
		s.log.Info("delete refused", "account", pub, "reason", oneLine(err))
		httpError(w, oneLine(err), statusOf(err))
		return
	}
	w.Header()["Content-Type"] = s.hdr.text
	fmt.Fprintf(w, "deleted %s\n", plural.N(n, "account"))
}

func (s *Server) handleOperator(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header()["Cache-Control"] = s.hdr.noCache
	s.writeToken(w, s.trust.Load().opJWT, flag(q.Get("text")), flag(q.Get("decode")))
}

func (s *Server) handlePack(w http.ResponseWriter, r *http.Request) {
	limit := -1
	if m := r.URL.Query().Get("max"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			httpError(w, "max must be a non-negative integer", http.StatusBadRequest)
			return
		}
		limit = n
	}
	w.Header()["Content-Type"] = s.hdr.text
	count := 0
	var (
		line []byte // "pub|jwt\n", reused: a pack has a line per account
		werr error
	)
	err := s.rangeServed(func(pub string, e jwtstore.Entry) bool {
		if count == limit {
			return false
		}
		count++
		line = append(appendPackLine(line[:0], pub, e.JWT), '\n')
		_, werr = w.Write(line)
		return werr == nil
	})
	if err != nil {
		s.log.Error("pack", "err", err)
	}
}

const helpText = `signet account server (nats-account-server compatible /jwt/v1 API)

GET    /jwt/v1/accounts/            200, empty (nats-server probes it)
GET    /jwt/v1/accounts/<pub>       the account JWT; ?text=true ?decode=true ?check=true; ETag/If-None-Match
POST   /jwt/v1/accounts/<pub>       store a JWT signed by the operator (body: the JWT, at most 1 MiB)
DELETE /jwt/v1/accounts/<pub>       delete; body: operator-signed generic claims {"accounts":[...]} with exp or iat
GET    /jwt/v1/operator             the operator JWT; ?text=true ?decode=true
GET    /jwt/v1/pack?max=N           pubkey|jwt lines
GET    /jwt/v1/help                 this text
GET    /healthz                     liveness: 200 while HTTP serves from a usable store (503 if not);
                                    the JSON body also reports the NATS connection
GET    /readyz?nats=1               readiness: as /healthz; with nats=1 also 503 while NATS is away
GET    /metrics                     Prometheus metrics
`

func (s *Server) handleHelp(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = s.hdr.text
	io.WriteString(w, helpText)
}

type health struct {
	Status string `json:"status"`
	Store  struct {
		Readable bool `json:"readable"`
		Writable bool `json:"writable"`
		ReadOnly bool `json:"readonly"`
		Accounts int  `json:"accounts"` // served: read, of a trusted issuer
		// Unread is the number of accounts of a directory store whose file was not read yet:
		// their issuer is checked when one is read (a GET, a LIST or pack, the store hash),
		// and they join Accounts if it is trusted.
		Unread int    `json:"unread"`
		Error  string `json:"error,omitempty"`
	} `json:"store"`
	NATS struct {
		Configured bool `json:"configured"`
		Connected  bool `json:"connected"`
	} `json:"nats"`
}

// handleHealth is liveness: the server answers and its store can be read (and written unless
// read-only). A NATS outage does not fail it: JWTs are still served over HTTP, which is exactly
// what a URL resolver needs during that outage. The NATS state is in the body and in /metrics.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	s.writeHealth(w, false)
}

// handleReady is readiness: liveness, and with ?nats=1 a connected NATS as well.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	needNATS, _ := strconv.ParseBool(r.URL.Query().Get("nats"))
	s.writeHealth(w, needNATS)
}

func (s *Server) writeHealth(w http.ResponseWriter, needNATS bool) {
	var h health
	h.Store.ReadOnly = s.store.ReadOnly()
	h.Store.Accounts, h.Store.Unread = s.servedLen()
	h.Store.Readable, h.Store.Writable = true, !h.Store.ReadOnly
	if d, ok := s.store.(*jwtstore.Dir); ok {
		if _, err := os.ReadDir(d.Path()); err != nil {
			h.Store.Readable, h.Store.Error = false, err.Error()
		}
		if h.Store.Writable {
			if f, err := os.CreateTemp(d.Path(), ".healthz.tmp*"); err != nil {
				h.Store.Writable, h.Store.Error = false, err.Error()
			} else {
				f.Close()
				os.Remove(f.Name())
			}
		}
	}
	h.NATS.Configured = s.peer.Load() != nil
	h.NATS.Connected = s.NATSConnected()
	ok := h.Store.Readable && (h.Store.ReadOnly || h.Store.Writable) && (!needNATS || h.NATS.Connected)
	code := http.StatusOK
	h.Status = "ok"
	if !ok {
		code, h.Status = http.StatusServiceUnavailable, "unavailable"
	}
	w.Header()["Content-Type"] = s.hdr.json
	w.Header()["Cache-Control"] = s.hdr.noStore
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(h)
}
