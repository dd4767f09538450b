package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/plural"
)

// The trust graph is drawn on the server as SVG: operator → its keys → accounts (in columns of
// accountsPerColumn, grouped and coloured by the key that signed them) with the stream and
// service flows between accounts as curves. Users are collapsed into counts; an account's own
// graph (?account=NAME) shows its signing keys and how many users each signed.
const (
	accountsPerColumn = 25
	colW              = 240
	boxW              = 200
	boxH              = 38
	rowH              = 48
	pad               = 24
	// edgesUpTo: above this many accounts, signer→account edges give way to colour alone.
	edgesUpTo = 60
	// perSignerUpTo: above this many users, an account's graph does not read every user JWT.
	perSignerUpTo = 5000
)

var palette = []string{"#2f6fde", "#1b8a4b", "#8e44ad", "#d9730d", "#c62f3a", "#16a2b8", "#7f8c1d", "#b8478f"}

type svg struct {
	b    strings.Builder
	w, h int
}

func (s *svg) f(format string, a ...any) { fmt.Fprintf(&s.b, format, a...) }

func esc(v string) string { return template.HTMLEscapeString(v) }

func trunc(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return v
	}
	return string(r[:n-1]) + "…"
}

// node draws a box with a title and a sub-title, linked when href is set.
func (s *svg) node(x, y int, class, title, sub, href, stripe string) {
	if href != "" {
		s.f(`<a href="%s">`, esc(href))
	}
	s.f(`<rect class="node %s" x="%d" y="%d" width="%d" height="%d" rx="6"/>`, class, x, y, boxW, boxH)
	if stripe != "" {
		s.f(`<rect x="%d" y="%d" width="5" height="%d" rx="2" fill="%s"/>`, x, y, boxH, stripe)
	}
	s.f(`<text x="%d" y="%d">%s</text>`, x+12, y+16, esc(trunc(title, 26)))
	if sub != "" {
		s.f(`<text class="sub" x="%d" y="%d">%s</text>`, x+12, y+31, esc(trunc(sub, 32)))
	}
	if href != "" {
		s.f(`</a>`)
	}
}

func (s *svg) edge(x1, y1, x2, y2 int, class, color string) {
	mx := (x1 + x2) / 2
	stroke := ""
	if color != "" {
		stroke = fmt.Sprintf(` style="stroke:%s"`, color)
	}
	s.f(`<path class="%s" d="M%d %d C%d %d %d %d %d %d"%s/>`, class, x1, y1, mx, y1, mx, y2, x2, y2, stroke)
}

func (s *svg) html() template.HTML {
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="trust graph"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="context-stroke"/></marker></defs>%s</svg>`, s.w, s.h, s.w, s.h, s.b.String()))
}

type graphData struct {
	SVG      template.HTML
	Account  string
	Accounts int
	Flows    int
	Note     string
}

func (c *Console) graphPage(w http.ResponseWriter, r *http.Request) {
	oc, _, err := c.o.Store.Operator()
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	rows, err := c.data.allAccounts()
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	var d graphData
	if name := r.URL.Query().Get("account"); name != "" {
		d, err = c.accountGraph(oc, rows, name)
		if err != nil {
			c.fail(w, http.StatusNotFound, err)
			return
		}
	} else {
		d = operatorGraph(oc, rows)
	}
	c.render(w, r, "graph", "Trust graph", "graph", d)
}

// signerOrder lists the operator's keys: identity first, then signing keys in order.
func signerOrder(oc *jwt.OperatorClaims) []string {
	return append([]string{oc.Subject}, oc.SigningKeys...)
}

type flowKey struct{ from, to, typ string }

// flows aggregates the imports between accounts of the store: one curve per pair and type.
func flows(rows []accountRow) (map[flowKey]int, []flowKey) {
	byKey := map[string]string{}
	for _, r := range rows {
		if r.Claims != nil {
			byKey[r.Claims.Subject] = r.Name
		}
	}
	count := map[flowKey]int{}
	var keys []flowKey
	for _, r := range rows {
		if r.Claims == nil {
			continue
		}
		for _, im := range r.Claims.Imports {
			from, ok := byKey[im.Account]
			if !ok || from == r.Name {
				continue
			}
			k := flowKey{from, r.Name, im.Type.String()}
			if count[k] == 0 {
				keys = append(keys, k)
			}
			count[k]++
		}
	}
	return count, keys
}

func operatorGraph(oc *jwt.OperatorClaims, rows []accountRow) graphData {
	signers := signerOrder(oc)
	color := map[string]string{}
	label := operatorSigners(oc)
	for i, k := range signers {
		color[k] = palette[i%len(palette)]
	}
	rank := map[string]int{}
	for i, k := range signers {
		rank[k] = i
	}
	accts := make([]accountRow, 0, len(rows))
	for _, r := range rows {
		if r.Claims != nil {
			accts = append(accts, r)
		}
	}
	issuerRank := func(r accountRow) int {
		if n, ok := rank[r.Claims.Issuer]; ok {
			return n
		}
		return len(signers)
	}
	sort.SliceStable(accts, func(i, j int) bool { return issuerRank(accts[i]) < issuerRank(accts[j]) })
	cols := max(1, (len(accts)+accountsPerColumn-1)/accountsPerColumn)
	perCol := min(len(accts), accountsPerColumn)
	g := &svg{}
	g.w = pad*2 + colW*2 + cols*colW
	g.h = max(pad*2+max(perCol, len(signers))*rowH, 200)
	pos := map[string][2]int{}
	for i, r := range accts {
		x := pad + colW*2 + (i/accountsPerColumn)*colW
		y := pad + (i%accountsPerColumn)*rowH
		pos[r.Name] = [2]int{x, y}
	}
	// operator and its keys
	opY := g.h/2 - boxH/2
	sy := func(i int) int { return pad + (g.h-2*pad-len(signers)*rowH)/2 + i*rowH }
	for i := range signers {
		g.edge(pad+boxW, opY+boxH/2, pad+colW, sy(i)+boxH/2, "edge", "")
	}
	// edges from keys to accounts, when few enough to read
	if len(accts) <= edgesUpTo {
		for _, r := range accts {
			if n, ok := rank[r.Claims.Issuer]; ok {
				p := pos[r.Name]
				g.edge(pad+colW+boxW, sy(n)+boxH/2, p[0], p[1]+boxH/2, "edge", color[r.Claims.Issuer])
			}
		}
	}
	g.node(pad, opY, "op", "Operator "+oc.Name, short(oc.Subject), "/", "")
	signed := map[string]int{}
	for _, r := range accts {
		signed[r.Claims.Issuer]++
	}
	for i, k := range signers {
		g.node(pad+colW, sy(i), "", label[k], fmt.Sprintf("%s · %d accounts", short(k), signed[k]), "", color[k])
	}
	count, keys := flows(accts)
	for _, k := range keys {
		a, b := pos[k.from], pos[k.to]
		x1, y1 := a[0]+boxW, a[1]+boxH/2
		x2, y2 := b[0], b[1]+boxH/2
		if a[0] == b[0] { // same column: loop out to the right
			x2 = b[0] + boxW
			g.f(`<path class="flow %s" marker-end="url(#arrow)" d="M%d %d C%d %d %d %d %d %d"><title>%s</title></path>`, k.typ, x1, y1, x1+60, y1, x2+60, y2, x2, y2, esc(fmt.Sprintf("%s → %s: %d %s import(s)", k.from, k.to, count[k], k.typ)))
			continue
		}
		if x2 < x1 {
			x1, x2 = a[0], b[0]+boxW
		}
		mx := (x1 + x2) / 2
		g.f(`<path class="flow %s" marker-end="url(#arrow)" d="M%d %d C%d %d %d %d %d %d"><title>%s</title></path>`, k.typ, x1, y1, mx, y1, mx, y2, x2, y2, esc(fmt.Sprintf("%s → %s: %d %s import(s)", k.from, k.to, count[k], k.typ)))
	}
	for _, r := range accts {
		p := pos[r.Name]
		sub := plural.N(r.Users, "user") + " · " + plural.N(len(r.Claims.SigningKeys), "key")
		g.node(p[0], p[1], "", r.Name, sub, "/graph?account="+url.QueryEscape(r.Name), color[r.Claims.Issuer])
	}
	d := graphData{SVG: g.html(), Accounts: len(accts), Flows: len(keys)}
	if len(accts) > edgesUpTo {
		d.Note = fmt.Sprintf("%d accounts: each account's stripe has the colour of the key that signed it.", len(accts))
	}
	return d
}

func short(k string) string {
	if len(k) <= 14 {
		return k
	}
	return k[:6] + "…" + k[len(k)-4:]
}

// accountGraph is one account's chain: the operator key that signed it, the account, its keys
// and the users each signed, and the accounts it exchanges streams and services with.
func (c *Console) accountGraph(oc *jwt.OperatorClaims, rows []accountRow, name string) (graphData, error) {
	ac, _, err := c.data.account(name)
	if err != nil {
		return graphData{}, err
	}
	users, err := c.data.userNames(name)
	if err != nil {
		return graphData{}, err
	}
	keys := append([]string{ac.Subject}, sortedKeys(ac.SigningKeys)...)
	perKey := map[string]int{}
	note := ""
	if len(users) <= perSignerUpTo {
		for _, u := range users {
			if uc, _, err := c.o.Store.User(name, u); err == nil {
				perKey[uc.Issuer]++
			}
		}
	} else {
		note = fmt.Sprintf("%d users: not counted per key (over %d).", len(users), perSignerUpTo)
	}
	count, fl := flows(rows)
	var in, out []flowKey
	for _, k := range fl {
		if k.to == name {
			in = append(in, k)
		}
		if k.from == name {
			out = append(out, k)
		}
	}
	g := &svg{}
	rowsN := max(len(keys), len(in), len(out), 1)
	g.w = pad*2 + colW*5
	g.h = pad*2 + rowsN*rowH + 40
	mid := func(n, i int) int { return pad + 30 + (rowsN-n)*rowH/2 + i*rowH }
	opX, sgX, acX, kX, uX := pad, pad+colW, pad+colW*2, pad+colW*3, pad+colW*4
	acY := mid(1, 0)
	label := operatorSigners(oc)
	g.f(`<text class="sub" x="%d" y="%d">operator</text><text class="sub" x="%d" y="%d">signed by</text><text class="sub" x="%d" y="%d">account</text><text class="sub" x="%d" y="%d">account keys</text><text class="sub" x="%d" y="%d">users</text>`, opX, pad+10, sgX, pad+10, acX, pad+10, kX, pad+10, uX, pad+10)
	g.edge(opX+boxW, acY+boxH/2, sgX, acY+boxH/2, "edge", "")
	g.edge(sgX+boxW, acY+boxH/2, acX, acY+boxH/2, "edge", "")
	g.node(opX, acY, "op", "Operator "+oc.Name, short(oc.Subject), "/", "")
	who := label[ac.Issuer]
	if who == "" {
		who = "unknown key"
	}
	g.node(sgX, acY, "", who, short(ac.Issuer), "", "")
	for i, k := range keys {
		y := mid(len(keys), i)
		g.edge(acX+boxW, acY+boxH/2, kX, y+boxH/2, "edge", "")
		title := "identity key"
		if i > 0 {
			title = "signing key"
			if us, ok := ac.SigningKeys[k].(*jwt.UserScope); ok && us != nil {
				title = "scoped key " + us.Role
			}
		}
		g.node(kX, y, "", title, short(k), "", palette[i%len(palette)])
		if note == "" && perKey[k] > 0 {
			g.edge(kX+boxW, y+boxH/2, uX, y+boxH/2, "edge", palette[i%len(palette)])
			g.node(uX, y, "", plural.N(perKey[k], "user"), "signed by this key", "/accounts/"+url.PathEscape(name)+"#users", palette[i%len(palette)])
		}
	}
	if note != "" {
		g.edge(kX+boxW, acY+boxH/2, uX, acY+boxH/2, "edge", "")
		g.node(uX, acY, "", plural.N(len(users), "user"), "all keys", "/accounts/"+url.PathEscape(name)+"#users", "")
	}
	g.node(acX, acY, "focus", name, plural.N(len(users), "user")+" · "+plural.N(len(ac.Exports), "export")+" · "+plural.N(len(ac.Imports), "import"), "/accounts/"+url.PathEscape(name), "")
	// flows: exporters above-left of the account, importers below-right, in a band under the tree
	bandY := g.h
	n := max(len(in), len(out))
	if n > 0 {
		g.h += 40 + n*rowH
		g.f(`<text class="sub" x="%d" y="%d">exports to %s</text><text class="sub" x="%d" y="%d">imports from %s</text>`, acX, bandY+14, esc(name), opX, bandY+14, esc(name))
		for i, k := range in {
			y := bandY + 28 + i*rowH
			g.f(`<path class="flow %s" marker-end="url(#arrow)" d="M%d %d C%d %d %d %d %d %d"><title>%d %s import(s)</title></path>`, k.typ, sgX, y+boxH/2, sgX+60, y+boxH/2, acX, acY+boxH, acX+boxW/2, acY+boxH, count[k], k.typ)
			g.node(opX, y, "", k.from, fmt.Sprintf("%s → %s (%d)", k.typ, name, count[k]), "/graph?account="+url.QueryEscape(k.from), "")
		}
		for i, k := range out {
			y := bandY + 28 + i*rowH
			g.f(`<path class="flow %s" marker-end="url(#arrow)" d="M%d %d C%d %d %d %d %d %d"><title>%d %s import(s)</title></path>`, k.typ, acX+boxW/2, acY+boxH, acX+boxW/2, y+boxH/2, kX-60, y+boxH/2, kX, y+boxH/2, count[k], k.typ)
			g.node(kX, y, "", k.to, fmt.Sprintf("%s from %s (%d)", k.typ, name, count[k]), "/graph?account="+url.QueryEscape(k.to), "")
		}
	}
	return graphData{SVG: g.html(), Account: name, Accounts: len(rows), Flows: len(in) + len(out), Note: note}, nil
}

func sortedKeys(m jwt.SigningKeys) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
