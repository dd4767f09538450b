// Package console is signet's web console: an http.Handler over one operator's store that shows
// the chain of trust (operator, signing keys, accounts, users, exports and imports), what the
// servers hold and who is connected, and acts on it (add a user, revoke a user, edit an account's
// limits) through package ops, as the CLI does.
//
// Access is by a one-time token, as Jupyter does it: the URL the front end prints carries the
// token, which is exchanged once for a session cookie (HttpOnly, SameSite=Strict). Every other
// request without a valid session is refused, and every action is a POST that carries the
// session's CSRF token. Pages never show a seed; creds are sent only on an explicit POST.
//
// The pages are html/template with embedded files and no script; they follow the browser's
// light or dark preference.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

//go:embed templates/*.html static/*
var files embed.FS

// Options configure a Console.
type Options struct {
	// Store is the operator's store; it is read afresh (through a cache keyed by file times) on
	// every request, so changes made by the CLI meanwhile show up.
	Store *store.Store
	// KeyStore holds the keys the actions sign with and the seeds of downloaded creds.
	KeyStore keystore.KeyStore
	// SystemConn, when set, returns the options of a system-account connection: the console
	// then asks the servers for live connections and compares what they hold with the store.
	SystemConn func() ([]nats.Option, error)
	// Servers are the NATS URLs asked for live data; nil means the operator's service URLs
	// and its account server URL when that is a NATS URL.
	Servers []string
	// HTTP is the client for the account server (drift); nil means http.DefaultClient.
	HTTP *http.Client
	// AccountSaved pushes an account after an action saved it, as the CLI does after a save
	// (the operator's auto-push or managed account server). nil means no push.
	AccountSaved func(ctx context.Context, s *store.Store, account string) error
	// ReadOnly hides and refuses every action.
	ReadOnly bool
	// Token is the one-time login token; empty means a random one.
	Token string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LiveTimeout bounds how long the servers are waited for on a page; zero means 1.5 s.
	LiveTimeout time.Duration
}

// Console serves the web console. Build it with New.
type Console struct {
	o     Options
	mux   *http.ServeMux
	pages map[string]*template.Template
	data  *cache

	mu        sync.Mutex
	token     string
	tokenUsed bool
	sessions  map[string]*session // by cookie secret

	live *live
}

// session is one browser that presented the token.
type session struct {
	ID     string // public: recorded in the history as "console session <ID>"
	Secret string // the cookie's value
	CSRF   string
}

const cookieName = "signet_console"

// New builds a console over o.Store.
func New(o Options) (*Console, error) {
	if o.Store == nil {
		return nil, errors.New("console: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LiveTimeout <= 0 {
		o.LiveTimeout = 1500 * time.Millisecond
	}
	c := &Console{o: o, mux: http.NewServeMux(), sessions: map[string]*session{}, data: newCache(o.Store)}
	c.token = o.Token
	if c.token == "" {
		c.token = randomHex(24)
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.live = newLive(o)
	c.routes()
	return c, nil
}

// Close drops the console's connection to the servers, if any.
func (c *Console) Close() { c.live.close() }

// LoginPath is the path with the one-time token that opens a session ("/login?token=...").
func (c *Console) LoginPath() string { return "/login?token=" + url.QueryEscape(c.token) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("console: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// ServeHTTP refuses every request without a session (but the login), then routes it.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // never the token to another site; "no-referrer" would make Origin "null"
	h.Set("Cache-Control", "no-store")
	if r.URL.Path == "/login" {
		c.login(w, r)
		return
	}
	sess := c.session(r)
	if sess == nil {
		refuse(w, http.StatusUnauthorized, "No console session: open the URL with the token that `signet console` printed.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !sameOrigin(r) {
			refuse(w, http.StatusForbidden, "Refused: the request comes from another site.")
			return
		}
		if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.CSRF)) != 1 {
			refuse(w, http.StatusForbidden, "Refused: the form's CSRF token is missing or wrong. Reload the page and try again.")
			return
		}
	}
	c.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
}

type sessionKey struct{}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// login exchanges the one-time token for a session cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	c.mu.Lock()
	ok := !c.tokenUsed && tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.token)) == 1
	var sess *session
	if ok {
		c.tokenUsed = true
		sess = &session{ID: randomHex(4), Secret: randomHex(32), CSRF: randomHex(32)}
		c.sessions[sess.Secret] = sess
	}
	c.mu.Unlock()
	if !ok {
		refuse(w, http.StatusForbidden, "This login link is not valid or was already used. Restart `signet console` for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: sess.Secret, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[ck.Value]
}

// sameOrigin refuses a POST whose Origin (when the browser sends one) is not this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// storeFor is the store as the session's actions write it: every change is recorded in the
// operator's history as made by this console session.
func (c *Console) storeFor(sess *session) *store.Store {
	s := *c.o.Store
	s.Hook = history.Recorder{Who: "console session " + sess.ID, Now: c.o.Now}
	return &s
}
