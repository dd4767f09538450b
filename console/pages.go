package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/drift"
	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/ops"
)

// Page sizes: the account list and an account's users are paged so that a page costs what it
// shows, not what the store holds.
const (
	accountsPerPage = 100
	usersPerPage    = 50
	historyPerPage  = 100
)

func (c *Console) routes() {
	c.mux.Handle("GET /static/", http.FileServerFS(files))
	c.mux.HandleFunc("GET /{$}", c.operatorPage)
	c.mux.HandleFunc("GET /accounts", c.accountsPage)
	c.mux.HandleFunc("GET /accounts/{account}", c.accountPage)
	c.mux.HandleFunc("GET /accounts/{account}/users/{user}", c.userPage)
	c.mux.HandleFunc("GET /graph", c.graphPage)
	c.mux.HandleFunc("GET /history", c.historyPage)
	c.actionRoutes()
}

// view is what every page template gets.
type view struct {
	Title    string
	Section  string // nav entry to highlight
	Operator string
	CSRF     string
	ReadOnly bool
	Flash    string
	Data     any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, page, title, section string, data any) {
	oc, _, _ := c.o.Store.Operator()
	name := c.o.Store.Name()
	if oc != nil && oc.Name != "" {
		name = oc.Name
	}
	v := view{Title: title, Section: section, Operator: name, ReadOnly: c.o.ReadOnly, Data: data, Flash: r.URL.Query().Get("done")}
	if s := sessionOf(r); s != nil {
		v.CSRF = s.CSRF
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		http.Error(w, "render "+page+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

func (c *Console) fail(w http.ResponseWriter, code int, err error) {
	http.Error(w, err.Error(), code)
}

// ---- Operator

type keyRow struct {
	Key  string
	Role string
}

type operatorData struct {
	Claims       *jwt.OperatorClaims
	SigningKeys  []string
	SystemName   string
	Accounts     int
	Live         bool
	DriftAsked   bool
	DriftError   string
	Report       *drift.Report
	Counts       map[drift.Status]int
	DriftEntries []drift.Entry
}

func (c *Console) operatorPage(w http.ResponseWriter, r *http.Request) {
	oc, _, err := c.o.Store.Operator()
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	d := operatorData{Claims: oc, SigningKeys: oc.SigningKeys, Live: c.live.enabled()}
	names, _ := c.o.Store.Accounts()
	d.Accounts = len(names)
	if oc.SystemAccount != "" {
		d.SystemName, _ = c.o.Store.FindAccount(oc.SystemAccount)
	}
	if rep, asked, err := c.drift(r.Context(), oc, names); asked {
		d.DriftAsked = true
		if err != nil {
			d.DriftError = err.Error()
		} else {
			d.Report = rep
			d.Counts = map[drift.Status]int{}
			for _, e := range rep.Entries {
				d.Counts[e.Status]++
			}
			d.DriftEntries = rep.Drift()
		}
	}
	c.render(w, r, "operator", "Operator "+oc.Name, "operator", d)
}

// drift compares the servers' holdings with the store, when the operator names servers.
func (c *Console) drift(ctx context.Context, oc *jwt.OperatorClaims, names []string) (*drift.Report, bool, error) {
	var servers []string
	_, accountServer := drift.OperatorSources(oc)
	if c.live.enabled() {
		servers = c.live.urls()
	}
	if len(servers) == 0 && accountServer == "" {
		return nil, false, nil
	}
	expected, nameOf := map[string]string{}, map[string]string{}
	for _, n := range names {
		ac, tok, err := c.data.account(n)
		if err != nil {
			continue
		}
		expected[ac.Subject], nameOf[ac.Subject] = tok, n
	}
	o := drift.Options{Operator: oc, Expected: expected, Names: nameOf, Servers: servers, AccountServer: accountServer, HTTP: c.o.HTTP, Timeout: c.o.LiveTimeout}
	if len(servers) > 0 {
		opts, err := c.o.SystemConn()
		if err != nil {
			return nil, true, err
		}
		o.NATSOptions = opts
	}
	ctx, cancel := context.WithTimeout(ctx, 3*c.o.LiveTimeout)
	defer cancel()
	rep, err := drift.Check(ctx, o)
	return rep, true, err
}

// ---- Accounts

type accountsData struct {
	Query     string
	Rows      []accountRow
	Total     int
	Matched   int
	Page      pager
	Live      bool
	LiveError string
	Conns     map[string]int
	// JS is each account's JetStream use (live), by public key.
	JS map[string]JSUse
	// Drift is each account's worst status at the servers, by public key (when they were asked).
	Drift      map[string]drift.Status
	DriftError string
	Signers    map[string]string // account signer key -> label
}

// pager is the paging of a list.
type pager struct {
	Page, Pages, From, To int
	Prev, Next            string
}

func paging(r *http.Request, total, per int) pager {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max(1, (total+per-1)/per)
	p = min(max(p, 1), pages)
	pg := pager{Page: p, Pages: pages, From: (p - 1) * per, To: min(p*per, total)}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if p > 1 {
		pg.Prev = link(p - 1)
	}
	if p < pages {
		pg.Next = link(p + 1)
	}
	return pg
}

func (c *Console) accountsPage(w http.ResponseWriter, r *http.Request) {
	rows, err := c.data.allAccounts()
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := accountsData{Query: q, Total: len(rows), Live: c.live.enabled()}
	if q != "" {
		lq := strings.ToLower(q)
		kept := rows[:0:0]
		for _, row := range rows {
			if strings.Contains(strings.ToLower(row.Name), lq) || (row.Claims != nil && strings.HasPrefix(row.Claims.Subject, strings.ToUpper(q))) {
				kept = append(kept, row)
			}
		}
		rows = kept
	}
	d.Matched = len(rows)
	d.Page = paging(r, len(rows), accountsPerPage)
	d.Rows = rows[d.Page.From:d.Page.To]
	if len(d.Rows) == 1 && q != "" && r.URL.Query().Get("page") == "" && d.Total > 1 {
		http.Redirect(w, r, "/accounts/"+url.PathEscape(d.Rows[0].Name), http.StatusSeeOther)
		return
	}
	if d.Live {
		d.Conns, _, err = c.live.accountConns(r.Context())
		if err != nil {
			d.LiveError = err.Error()
		} else if d.JS, err = c.live.jetStreamUse(r.Context()); err != nil {
			d.LiveError = err.Error()
		}
	}
	oc, _, _ := c.o.Store.Operator()
	d.Signers = operatorSigners(oc)
	if oc != nil {
		names := make([]string, 0, len(d.Rows))
		for _, row := range d.Rows {
			names = append(names, row.Name)
		}
		if rep, asked, err := c.drift(r.Context(), oc, names); asked {
			if err != nil {
				d.DriftError = err.Error()
			} else {
				d.Drift = worstByAccount(rep)
			}
		}
	}
	c.render(w, r, "accounts", "Accounts", "accounts", d)
}

// worstByAccount is, per account of a drift report, the status that needs the most attention
// over its sources (in-sync only when every source holds the store's JWT).
func worstByAccount(rep *drift.Report) map[string]drift.Status {
	out := map[string]drift.Status{}
	for _, e := range rep.Entries {
		if cur, ok := out[e.Account]; !ok || cur == drift.InSync {
			out[e.Account] = e.Status
		}
	}
	return out
}

// operatorSigners labels the operator's keys: its identity key and its signing keys.
func operatorSigners(oc *jwt.OperatorClaims) map[string]string {
	out := map[string]string{}
	if oc == nil {
		return out
	}
	out[oc.Subject] = "operator identity key"
	for i, k := range oc.SigningKeys {
		out[k] = fmt.Sprintf("operator signing key %d", i+1)
	}
	return out
}

// ---- Account

type scopeView struct {
	Key         string
	Role        string
	Scoped      bool
	Description string
	Template    jwt.UserPermissionLimits
	Users       int // users on this page signed by it (counted over the page only)
}

type importView struct {
	jwt.Import
	FromName string
}

type exportView struct {
	jwt.Export
	Importers []string
}

type revocationView struct {
	Key  string
	Name string
	At   int64
}

type userRow struct {
	Name    string
	Key     string
	Signer  string
	Issued  int64
	Expires int64
	Revoked bool
	Bearer  bool
	Err     string
}

type accountData struct {
	Name        string
	Claims      *jwt.AccountClaims
	Signer      string
	IsSystem    bool
	SigningKeys []scopeView
	Exports     []exportView
	Imports     []importView
	Mappings    []mappingView
	Revocations []revocationView
	RevMore     int
	Query       string
	Users       []userRow
	UserTotal   int
	UserMatched int
	Page        pager
	Live        bool
	LiveError   string
	Conns       []Conn
	Tiers       []tierView
}

type mappingView struct {
	From string
	To   []jwt.WeightedMapping
}

type tierView struct {
	Tier   string
	Limits jwt.JetStreamLimits
}

const maxRevocationsShown = 200

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("account")
	ac, _, err := c.data.account(name)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	oc, _, _ := c.o.Store.Operator()
	d := accountData{Name: name, Claims: ac, Live: c.live.enabled()}
	d.Signer = operatorSigners(oc)[ac.Issuer]
	d.IsSystem = oc != nil && oc.SystemAccount == ac.Subject
	for key, scope := range ac.SigningKeys {
		sv := scopeView{Key: key}
		if us, ok := scope.(*jwt.UserScope); ok && us != nil {
			sv.Scoped, sv.Role, sv.Description, sv.Template = true, us.Role, us.Description, us.Template
		}
		d.SigningKeys = append(d.SigningKeys, sv)
	}
	sort.Slice(d.SigningKeys, func(i, j int) bool {
		return d.SigningKeys[i].Role+d.SigningKeys[i].Key < d.SigningKeys[j].Role+d.SigningKeys[j].Key
	})
	all, _ := c.data.allAccounts()
	byKey := map[string]string{}
	for _, row := range all {
		if row.Claims != nil {
			byKey[row.Claims.Subject] = row.Name
		}
	}
	for _, ex := range ac.Exports {
		ev := exportView{Export: *ex}
		for _, row := range all {
			if row.Claims == nil {
				continue
			}
			for _, im := range row.Claims.Imports {
				if im.Account == ac.Subject && im.Type == ex.Type && subjectCovers(string(ex.Subject), string(im.Subject)) {
					ev.Importers = append(ev.Importers, row.Name)
					break
				}
			}
		}
		d.Exports = append(d.Exports, ev)
	}
	for _, im := range ac.Imports {
		d.Imports = append(d.Imports, importView{Import: *im, FromName: byKey[im.Account]})
	}
	for from, to := range ac.Mappings {
		d.Mappings = append(d.Mappings, mappingView{From: string(from), To: to})
	}
	sort.Slice(d.Mappings, func(i, j int) bool { return d.Mappings[i].From < d.Mappings[j].From })
	for tier, lim := range ac.Limits.JetStreamTieredLimits {
		d.Tiers = append(d.Tiers, tierView{tier, lim})
	}
	sort.Slice(d.Tiers, func(i, j int) bool { return d.Tiers[i].Tier < d.Tiers[j].Tier })
	for key, at := range ac.Revocations {
		if len(d.Revocations) >= maxRevocationsShown {
			d.RevMore++
			continue
		}
		rv := revocationView{Key: key, At: at}
		if key == jwt.All {
			rv.Name = "every user"
		} else if a, u, err := c.o.Store.FindUserAnyAccount(key); err == nil && a == name {
			rv.Name = u
		}
		d.Revocations = append(d.Revocations, rv)
	}
	sort.Slice(d.Revocations, func(i, j int) bool { return d.Revocations[i].At > d.Revocations[j].At })

	names, err := c.data.userNames(name)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	d.UserTotal = len(names)
	d.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if d.Query != "" {
		if nkeys.IsValidPublicUserKey(d.Query) {
			if u, err := c.o.Store.FindUser(name, d.Query); err == nil {
				names = []string{u}
			} else {
				names = nil
			}
		} else {
			lq := strings.ToLower(d.Query)
			var kept []string
			for _, n := range names {
				if strings.Contains(strings.ToLower(n), lq) {
					kept = append(kept, n)
				}
			}
			names = kept
		}
	}
	d.UserMatched = len(names)
	d.Page = paging(r, len(names), usersPerPage)
	for _, n := range names[d.Page.From:d.Page.To] {
		d.Users = append(d.Users, c.userRow(ac, name, n))
	}
	if d.Live {
		d.Conns, err = c.live.connections(r.Context(), ac.Subject)
		if err != nil {
			d.LiveError = err.Error()
		}
		c.nameConns(name, d.Conns)
	}
	c.render(w, r, "account", "Account "+name, "accounts", d)
}

// subjectCovers reports whether the export subject ex covers the import subject im.
func subjectCovers(ex, im string) bool {
	return jwt.Subject(im).IsContainedIn(jwt.Subject(ex))
}

func (c *Console) userRow(ac *jwt.AccountClaims, account, name string) userRow {
	row := userRow{Name: name}
	uc, _, err := c.o.Store.User(account, name)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	row.Key, row.Issued, row.Expires, row.Bearer = uc.Subject, uc.IssuedAt, uc.Expires, ops.IsBearerUser(uc, ac)
	row.Revoked = ac.IsClaimRevoked(uc)
	row.Signer = signerLabel(ac, uc)
	return row
}

// signerLabel says which of the account's keys signed a user.
func signerLabel(ac *jwt.AccountClaims, uc *jwt.UserClaims) string {
	iss := uc.Issuer
	if uc.IssuerAccount != "" && uc.IssuerAccount != ac.Subject {
		return "another account"
	}
	if iss == ac.Subject {
		return "identity key"
	}
	if _, ok := ac.SigningKeys[iss]; ok {
		if us := ops.UserScope(uc, ac); us != nil {
			return "scoped key " + us.Role
		}
		return "signing key"
	}
	return "unknown key"
}

// nameConns fills in the store's user names of connections.
func (c *Console) nameConns(account string, conns []Conn) {
	for i := range conns {
		if conns[i].User == "" {
			continue
		}
		if a, u, err := c.o.Store.FindUserAnyAccount(conns[i].User); err == nil && a == account {
			conns[i].UserName = u
		}
	}
}

// ---- User

type userData struct {
	Account       string
	Name          string
	Claims        *jwt.UserClaims
	AccountClaims *jwt.AccountClaims
	Signer        string
	Bearer        bool
	Scoped        bool
	Role          string
	Set           jwt.UserPermissionLimits
	Effective     jwt.UserPermissionLimits
	EffectiveFrom string
	Warnings      []string
	EffectiveErr  string
	Revoked       bool
	RevokedAt     int64
	Expired       bool
	Live          bool
	LiveError     string
	Conns         []Conn
	HasSeed       bool
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request) {
	d, code, err := c.userData(r)
	if err != nil {
		c.fail(w, code, err)
		return
	}
	c.render(w, r, "user", "User "+d.Name, "accounts", d)
}

func (c *Console) userData(r *http.Request) (*userData, int, error) {
	account, name := r.PathValue("account"), r.PathValue("user")
	ac, _, err := c.data.account(account)
	if err != nil {
		return nil, http.StatusNotFound, err
	}
	uc, _, err := c.o.Store.User(account, name)
	if err != nil {
		return nil, http.StatusNotFound, err
	}
	d := &userData{Account: account, Name: name, Claims: uc, AccountClaims: ac, Live: c.live.enabled()}
	d.Signer = signerLabel(ac, uc)
	d.Bearer = ops.IsBearerUser(uc, ac) // as the server reads it, even when the template does not expand
	d.Set = uc.UserPermissionLimits
	d.Revoked = ac.IsClaimRevoked(uc)
	if at, ok := ac.Revocations[uc.Subject]; ok {
		d.RevokedAt = at
	} else if at, ok := ac.Revocations[jwt.All]; ok && d.Revoked {
		d.RevokedAt = at
	}
	d.Expired = uc.Expires > 0 && uc.Expires < c.o.Now().Unix()
	d.HasSeed = c.o.KeyStore.Has(uc.Subject)
	if us := ops.UserScope(uc, ac); us != nil {
		d.Scoped, d.Role = true, us.Role
		lim, warnings, err := authz.ExpandScopedUser(us, uc, ac)
		d.Warnings = warnings
		if err != nil {
			d.EffectiveErr = err.Error()
		}
		d.Effective, d.EffectiveFrom = lim, fmt.Sprintf("the template of scoped signing key %q, expanded for this user (the user's own permissions are ignored)", us.Role)
	}
	if !d.Scoped {
		d.Effective = uc.UserPermissionLimits
		d.EffectiveFrom = "the user's own permissions"
		if permsEmpty(uc.Permissions) && !permsEmpty(ac.DefaultPermissions) {
			d.Effective.Permissions = ac.DefaultPermissions
			d.EffectiveFrom = "the account's default permissions (the user sets none)"
		}
	}
	if d.Live {
		conns, err := c.live.connections(r.Context(), ac.Subject)
		if err != nil {
			d.LiveError = err.Error()
		}
		for _, cn := range conns {
			if cn.User == uc.Subject {
				cn.UserName = name
				d.Conns = append(d.Conns, cn)
			}
		}
	}
	return d, http.StatusOK, nil
}

func permsEmpty(p jwt.Permissions) bool {
	return len(p.Pub.Allow) == 0 && len(p.Pub.Deny) == 0 && len(p.Sub.Allow) == 0 && len(p.Sub.Deny) == 0 && p.Resp == nil
}

// ---- History

type historyData struct {
	Records  []history.Record
	Total    int
	Page     pager
	Verified int
	Bad      string
}

func (c *Console) historyPage(w http.ResponseWriter, r *http.Request) {
	recs, err := history.Read(c.o.Store)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	d := historyData{Total: len(recs)}
	if n, err := history.Verify(c.o.Store); err != nil {
		d.Bad = err.Error()
	} else {
		d.Verified = n
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	d.Page = paging(r, len(recs), historyPerPage)
	d.Records = recs[d.Page.From:d.Page.To]
	c.render(w, r, "history", "History", "history", d)
}

// ---- template helpers

var funcs = template.FuncMap{
	"short": func(k string) string {
		if len(k) <= 14 {
			return k
		}
		return k[:6] + "…" + k[len(k)-4:]
	},
	"when": func(ts int64) string {
		if ts == 0 {
			return "never"
		}
		return time.Unix(ts, 0).UTC().Format("2006-01-02 15:04 UTC")
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"limit": func(n int64) string {
		if n < 0 {
			return "unlimited"
		}
		return strconv.FormatInt(n, 10)
	},
	"bytes": func(n int64) string {
		if n < 0 {
			return "unlimited"
		}
		const unit = 1024
		if n < unit {
			return fmt.Sprintf("%d B", n)
		}
		div, exp := int64(unit), 0
		for m := n / unit; m >= unit; m /= unit {
			div *= unit
			exp++
		}
		return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
	},
	"list": func(l any) string {
		var items []string
		switch v := l.(type) {
		case jwt.StringList:
			items = v
		case jwt.CIDRList:
			items = v
		case jwt.TagList:
			items = v
		case []string:
			items = v
		}
		if len(items) == 0 {
			return "—"
		}
		return strings.Join(items, ", ")
	},
	"esc":  url.PathEscape,
	"plus": func(a, b int) int { return a + b },
	"connsOf": func(m map[string]int, k string) int {
		return m[k]
	},
	"jsEnabled": func(ac *jwt.AccountClaims) bool { return ac != nil && ac.Limits.IsJSEnabled() },
	"jsUse": func(m map[string]JSUse, k string) *JSUse {
		if u, ok := m[k]; ok {
			return &u
		}
		return nil
	},
	"driftOf": func(m map[string]drift.Status, k string) drift.Status { return m[k] },
	"plural":  plural.N,
	"u64":     func(n uint64) int64 { return int64(n) },
	"graph":   func(s template.HTML) template.HTML { return s },
}
