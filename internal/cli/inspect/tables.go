package inspect

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/ops"
)

// details is a two-column table of labelled values. A label with several values takes one row
// per value, the label only on the first, as nsc prints them.
type details struct{ t table.Writer }

func newDetails(title string) *details { return &details{t: cmdutil.NewTable(title)} }

func (d *details) add(label string, value any) { d.t.AppendRow(table.Row{label, value}) }

func (d *details) list(label string, values []string, empty string) {
	if len(values) == 0 {
		if empty != "" {
			d.add(label, empty)
		}
		return
	}
	for i, v := range values {
		if i == 0 {
			d.add(label, v)
		} else {
			d.add("", v)
		}
	}
}

func (d *details) sep() { d.t.AppendSeparator() }

func (d *details) render(w io.Writer) { cmdutil.RenderTable(w, d.t) }

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// formatBytes renders a size limit: Unlimited for negative, the exact number otherwise with a
// readable unit beside it.
func formatBytes(n int64) string {
	if n < 0 {
		return "Unlimited"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	u := ""
	for _, unit := range units {
		if v < 1024 {
			break
		}
		v /= 1024
		u = unit
	}
	return fmt.Sprintf("%d (%.1f %s)", n, v, u)
}

// header adds the rows every entity has: name, id, issuer, validity, tags.
func (d *details) header(idLabel string, cd *jwt.ClaimsData, tags jwt.TagList) {
	d.add("Name", cd.Name)
	d.add(idLabel, cd.Subject)
	d.add("Issuer ID", cd.Issuer)
	d.add("Issued", cmdutil.FormatUnix(cd.IssuedAt))
	d.add("Expires", cmdutil.FormatUnix(cd.Expires))
	if cd.NotBefore != 0 {
		d.add("Not Before", cmdutil.FormatUnix(cd.NotBefore))
	}
	d.list("Tags", sortedStrings(tags), "")
}

func sortedStrings[S ~[]string](in S) []string {
	out := slices.Clone([]string(in))
	sort.Strings(out)
	return out
}

// renderOperator prints an operator JWT. accountName maps an account public key to its name
// (empty when unknown).
func renderOperator(w io.Writer, oc *jwt.OperatorClaims, accountName func(string) string) {
	d := newDetails("Operator Details")
	d.header("Operator ID", &oc.ClaimsData, oc.Tags)
	if oc.AccountServerURL != "" {
		d.add("Account JWT Server", oc.AccountServerURL)
	}
	d.list("Operator Service URLs", oc.OperatorServiceURLs, "")
	sys := oc.SystemAccount
	if sys != "" {
		if n := accountName(sys); n != "" {
			sys = fmt.Sprintf("%s (%s)", n, sys)
		}
	} else {
		sys = "Not Set"
	}
	d.add("System Account", sys)
	d.add("Require Signing Keys", yesNo(oc.StrictSigningKeyUsage))
	if oc.AssertServerVersion != "" {
		d.add("Server Version", oc.AssertServerVersion)
	}
	d.sep()
	d.list("Signing Keys", sortedStrings(oc.SigningKeys), "None")
	d.render(w)
}

// renderAccount prints an account JWT with its scoped keys, exports, imports and mappings in
// tables of their own.
func renderAccount(w io.Writer, ac *jwt.AccountClaims) {
	d := newDetails("Account Details")
	d.header("Account ID", &ac.ClaimsData, ac.Tags)
	if ac.Description != "" {
		d.add("Description", ac.Description)
	}
	if ac.InfoURL != "" {
		d.add("Info URL", ac.InfoURL)
	}
	d.sep()
	var plain, scoped []string
	for _, k := range sortedStrings(ac.SigningKeys.Keys()) {
		if s, ok := ac.SigningKeys[k]; ok && s != nil {
			scoped = append(scoped, k)
		} else {
			plain = append(plain, k)
		}
	}
	for _, k := range scoped {
		if us, ok := ac.SigningKeys[k].(*jwt.UserScope); ok {
			plain = append(plain, fmt.Sprintf("%s (scoped, role %q)", k, us.Role))
		}
	}
	d.list("Signing Keys", plain, "None")
	d.sep()
	l := ac.Limits
	d.add("Max Connections", cmdutil.FormatLimit(l.Conn))
	d.add("Max Leaf Node Connections", cmdutil.FormatLimit(l.LeafNodeConn))
	d.add("Max Data", formatBytes(l.Data))
	d.add("Max Exports", cmdutil.FormatLimit(l.Exports))
	d.add("Max Imports", cmdutil.FormatLimit(l.Imports))
	d.add("Max Msg Payload", formatBytes(l.Payload))
	d.add("Max Subscriptions", cmdutil.FormatLimit(l.Subs))
	d.add("Exports Allows Wildcards", yesNo(l.WildcardExports))
	d.add("Disallow Bearer Token", yesNo(l.DisallowBearer))
	d.sep()
	jetStreamRows(d, l)
	d.sep()
	permissionRows(d, "Default ", ac.DefaultPermissions)
	d.sep()
	d.add("Imports", countOrNone(len(ac.Imports)))
	d.add("Exports", countOrNone(len(ac.Exports)))
	d.add("Mappings", countOrNone(len(ac.Mappings)))
	d.add("Revocations", countOrNone(len(ac.Revocations)))
	d.render(w)

	for _, k := range scoped {
		us, ok := ac.SigningKeys[k].(*jwt.UserScope)
		if !ok {
			continue
		}
		sd := newDetails("Scoped Signing Key")
		sd.add("Key", k)
		sd.add("Role", us.Role)
		if us.Description != "" {
			sd.add("Description", us.Description)
		}
		sd.sep()
		userLimitRows(sd, us.Template)
		sd.render(w)
	}
	renderExports(w, ac.Exports)
	renderImports(w, ac.Imports)
	renderMappings(w, ac.Mappings)
}

func countOrNone(n int) string {
	if n == 0 {
		return "None"
	}
	return fmt.Sprintf("%d", n)
}

func jetStreamRows(d *details, l jwt.OperatorLimits) {
	if !l.IsJSEnabled() {
		d.add("JetStream", "Disabled")
		return
	}
	d.add("JetStream", "Enabled")
	if len(l.JetStreamTieredLimits) == 0 {
		jsLimitRows(d, "", l.JetStreamLimits)
		return
	}
	tiers := make([]string, 0, len(l.JetStreamTieredLimits))
	for t := range l.JetStreamTieredLimits {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	for _, t := range tiers {
		d.add("Tier", t)
		jsLimitRows(d, "  ", l.JetStreamTieredLimits[t])
	}
}

func jsLimitRows(d *details, indent string, js jwt.JetStreamLimits) {
	d.add(indent+"Max Memory Storage", formatBytes(js.MemoryStorage))
	d.add(indent+"Max Disk Storage", formatBytes(js.DiskStorage))
	d.add(indent+"Max Streams", cmdutil.FormatLimit(js.Streams))
	d.add(indent+"Max Consumers", cmdutil.FormatLimit(js.Consumer))
	d.add(indent+"Max Ack Pending", ackPending(js.MaxAckPending))
	d.add(indent+"Max Memory Stream", streamBytes(js.MemoryMaxStreamBytes))
	d.add(indent+"Max Disk Stream", streamBytes(js.DiskMaxStreamBytes))
	d.add(indent+"Max Bytes Required", yesNo(js.MaxBytesRequired))
}

// ackPending and streamBytes: in JetStream limits 0 means "no limit" for these fields.
func ackPending(n int64) string {
	if n <= 0 {
		return "Unlimited"
	}
	return fmt.Sprintf("%d", n)
}

func streamBytes(n int64) string {
	if n <= 0 {
		return "Unlimited"
	}
	return formatBytes(n)
}

// permissionRows adds pub/sub allow/deny lists and response permissions.
func permissionRows(d *details, prefix string, p jwt.Permissions) {
	if len(p.Pub.Allow)+len(p.Pub.Deny)+len(p.Sub.Allow)+len(p.Sub.Deny) == 0 && prefix != "" {
		d.add(prefix+"Permissions", "Not Set")
	}
	d.list(prefix+"Pub Allow", p.Pub.Allow, "")
	d.list(prefix+"Pub Deny", p.Pub.Deny, "")
	d.list(prefix+"Sub Allow", p.Sub.Allow, "")
	d.list(prefix+"Sub Deny", p.Sub.Deny, "")
	d.add(prefix+"Response Permissions", responsePerm(p.Resp))
}

func responsePerm(r *jwt.ResponsePermission) string {
	if r == nil {
		return "Not Set"
	}
	ttl := "no expiry"
	if r.Expires > 0 {
		ttl = "expires " + r.Expires.String()
	}
	max := "any number of responses"
	if r.MaxMsgs > 0 {
		max = plural.N(r.MaxMsgs, "response")
	}
	return max + ", " + ttl
}

// userLimitRows adds a user's (or a scope template's) permissions and limits.
func userLimitRows(d *details, u jwt.UserPermissionLimits) {
	permissionRows(d, "", u.Permissions)
	d.sep()
	d.add("Max Subscriptions", cmdutil.FormatLimit(u.Subs))
	d.add("Max Data", formatBytes(u.Data))
	d.add("Max Msg Payload", formatBytes(u.Payload))
	d.add("Bearer Token", yesNo(u.BearerToken))
	if u.ProxyRequired {
		d.add("Proxy Required", "Yes")
	}
	d.list("Network Src", u.Src, "Any")
	var times []string
	for _, tr := range u.Times {
		times = append(times, tr.Start+"-"+tr.End)
	}
	d.list("Time", times, "Any")
	if u.Locale != "" {
		d.add("Time Zone", u.Locale)
	}
	d.list("Connection Types", sortedStrings(u.AllowedConnectionTypes), "Any")
}

// renderUser prints a user JWT. When the account is known and the user is scoped, the
// permissions the server will give it are expanded from the scope's template.
func renderUser(w io.Writer, uc *jwt.UserClaims, ac *jwt.AccountClaims, now time.Time) {
	d := newDetails("User")
	d.header("User ID", &uc.ClaimsData, uc.Tags)
	if uc.IssuerAccount != "" {
		d.add("Issuer Account", uc.IssuerAccount)
	}
	if ac != nil && ac.Revocations.IsRevoked(uc.Subject, time.Unix(uc.IssuedAt, 0)) {
		d.add("Revoked", "Yes")
	}
	if uc.Expires != 0 && uc.Expires < now.Unix() {
		d.add("Expired", "Yes")
	}
	scope := ops.UserScope(uc, ac)
	if scope != nil {
		d.add("Scoped", fmt.Sprintf("Yes (role %q)", scope.Role))
		d.render(w)
		renderEffective(w, uc, ac, scope)
		return
	}
	d.sep()
	userLimitRows(d, uc.UserPermissionLimits)
	d.render(w)
}

// renderEffective prints the permissions a scoped user gets, expanded as the server does.
func renderEffective(w io.Writer, uc *jwt.UserClaims, ac *jwt.AccountClaims, scope *jwt.UserScope) {
	title := fmt.Sprintf("Effective Permissions (scoped key role %q)", scope.Role)
	d := newDetails(title)
	d.add("Signing Key", scope.Key)
	lim, warnings, err := authz.ExpandScopedUser(scope, uc, ac)
	if err != nil {
		d.add("Expansion Error", err.Error())
		d.list("Warnings", warnings, "")
		d.sep()
		d.list("Template Pub Allow", scope.Template.Pub.Allow, "")
		d.list("Template Pub Deny", scope.Template.Pub.Deny, "")
		d.list("Template Sub Allow", scope.Template.Sub.Allow, "")
		d.list("Template Sub Deny", scope.Template.Sub.Deny, "")
		d.render(w)
		return
	}
	d.list("Warnings", warnings, "")
	d.sep()
	userLimitRows(d, lim)
	d.render(w)
}

func renderExports(w io.Writer, exports jwt.Exports) {
	if len(exports) == 0 {
		return
	}
	sorted := slices.Clone(exports)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Subject < sorted[j].Subject })
	t := cmdutil.NewTable("Exports")
	t.AppendHeader(table.Row{"Name", "Type", "Subject", "Public", "Revocations", "Tok Pos", "Response", "Latency", "Advertised", "Description"})
	for _, e := range sorted {
		resp, lat := "", ""
		if e.IsService() {
			resp = string(e.ResponseType)
			if resp == "" {
				resp = jwt.ResponseTypeSingleton
			}
			if e.ResponseThreshold > 0 {
				resp += " (" + e.ResponseThreshold.String() + ")"
			}
			if e.Latency != nil {
				lat = fmt.Sprintf("%d%% -> %s", e.Latency.Sampling, e.Latency.Results)
			}
		}
		pos := ""
		if e.AccountTokenPosition > 0 {
			pos = fmt.Sprintf("%d", e.AccountTokenPosition)
		}
		t.AppendRow(table.Row{e.Name, e.Type.String(), string(e.Subject), yesNo(!e.TokenReq),
			len(e.Revocations), pos, resp, lat, yesNo(e.Advertise), e.Description})
	}
	cmdutil.RenderTable(w, t)
}

func renderImports(w io.Writer, imports jwt.Imports) {
	if len(imports) == 0 {
		return
	}
	sorted := slices.Clone(imports)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Account != sorted[j].Account {
			return sorted[i].Account < sorted[j].Account
		}
		return sorted[i].Subject < sorted[j].Subject
	})
	t := cmdutil.NewTable("Imports")
	t.AppendHeader(table.Row{"Name", "Type", "Remote", "Local", "From Account", "Token", "Share"})
	for _, im := range sorted {
		local := string(im.LocalSubject)
		if local == "" {
			local = string(im.To)
		}
		tok := "No"
		if im.Token != "" {
			tok = "Yes"
			if act, err := jwt.DecodeActivationClaims(im.Token); err != nil {
				tok = "Invalid: " + err.Error()
			} else if act.Expires > 0 {
				tok = "Yes, expires " + cmdutil.FormatUnix(act.Expires)
			}
		}
		t.AppendRow(table.Row{im.Name, im.Type.String(), string(im.Subject), local, im.Account, tok, yesNo(im.Share)})
	}
	cmdutil.RenderTable(w, t)
}

func renderMappings(w io.Writer, m jwt.Mapping) {
	if len(m) == 0 {
		return
	}
	froms := make([]string, 0, len(m))
	for k := range m {
		froms = append(froms, string(k))
	}
	sort.Strings(froms)
	t := cmdutil.NewTable("Mappings")
	t.AppendHeader(table.Row{"From", "To", "Weight (%)", "Cluster"})
	for _, from := range froms {
		for _, wm := range m[jwt.Subject(from)] {
			t.AppendRow(table.Row{from, string(wm.Subject), wm.GetWeight(), wm.Cluster})
		}
	}
	cmdutil.RenderTable(w, t)
}

// renderActivation prints an activation token.
func renderActivation(w io.Writer, act *jwt.ActivationClaims) {
	d := newDetails("Activation")
	d.header("Target Account", &act.ClaimsData, act.Tags)
	if act.IssuerAccount != "" {
		d.add("Issuer Account", act.IssuerAccount)
	}
	d.add("Import Type", act.ImportType.String())
	d.add("Import Subject", string(act.ImportSubject))
	d.render(w)
}

// renderGeneric prints a JWT of a kind signet has no table for.
func renderGeneric(w io.Writer, c *jwt.GenericClaims) {
	d := newDetails("JWT")
	d.header("Subject", &c.ClaimsData, nil)
	d.add("Type", string(c.ClaimType()))
	d.render(w)
}

// scopeByKey returns the role of a scoped signing key.
func scopeByKey(sk jwt.SigningKeys, key string) (string, bool) {
	s, ok := sk.GetScope(key)
	if !ok || s == nil {
		return "", false
	}
	us, ok := s.(*jwt.UserScope)
	if !ok {
		return "", false
	}
	return us.Role, true
}
