package spec

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// problems gathers the errors of a spec, each with its file and line.
type problems struct {
	l    *Loaded
	list []string
}

func (p *problems) add(path []any, format string, a ...any) {
	p.list = append(p.list, fmt.Sprintf("%s: %s", p.l.Pos(path...), fmt.Sprintf(format, a...)))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return fmt.Errorf("the spec has %d problem(s), nothing was changed:\n  %s", len(p.list), strings.Join(p.list, "\n  "))
}

func at(path []any, more ...any) []any {
	return append(slices.Clone(path), more...)
}

// validate checks the merged spec: names, subjects, limits, templates, and the references
// across the file (imports of exports, users of roles, the system account). It fills in what
// the file may leave out and the store needs (an import's type, from its export).
func (l *Loaded) validate() error {
	p := &problems{l: l}
	sp := l.Spec
	if sp.SystemAccount != "" && sp.Accounts[sp.SystemAccount] == nil {
		p.add([]any{"system_account"}, "system account %q is not an account of the file", sp.SystemAccount)
	}
	for _, name := range sortedKeys(sp.Accounts) {
		a := sp.Accounts[name]
		path := []any{"accounts", name}
		if err := store.ValidateName(name); err != nil {
			p.add(path, "account name %q: %v", name, err)
		}
		if a == nil {
			sp.Accounts[name] = &Account{}
			continue
		}
		validateAccount(p, sp, name, a, path)
	}
	return p.err()
}

func validateAccount(p *problems, sp *Spec, name string, a *Account, path []any) {
	validateTags(p, at(path, "tags"), a.Tags)
	if a.Expires != "" {
		if _, err := parseTime(a.Expires); err != nil {
			p.add(at(path, "expires"), "%v", err)
		}
	}
	if a.Limits != nil {
		l := a.Limits
		for _, v := range []struct {
			f string
			n *int64
		}{{"conns", l.Conns}, {"leaf_conns", l.LeafConns}, {"subs", l.Subs}, {"imports", l.Imports}, {"exports", l.Exports},
			{"payload", (*int64)(l.Payload)}, {"data", (*int64)(l.Data)}} {
			if v.n != nil && *v.n < -1 {
				p.add(at(path, "limits", v.f), "%s %d: use a count, or -1 for unlimited", v.f, *v.n)
			}
		}
	}
	if js := a.JetStream; js != nil {
		if len(js.Tiers) > 0 && js.JetStreamLimits != (JetStreamLimits{}) {
			p.add(at(path, "jetstream"), "account %q: global JetStream limits and tiers do not mix: use one or the other", name)
		}
		for tier := range js.Tiers {
			if n, err := strconv.Atoi(strings.TrimPrefix(tier, "R")); err != nil || !strings.HasPrefix(tier, "R") || n < 1 {
				p.add(at(path, "jetstream", "tiers", tier), "tier %q: use R1, R3... (R and the replication factor)", tier)
			}
		}
	}
	seen := map[string]bool{}
	for i, e := range a.Exports {
		validateExport(p, at(path, "exports", i), &a.Exports[i], seen)
		_ = e
	}
	for i := range a.Imports {
		validateImport(p, sp, name, at(path, "imports", i), &a.Imports[i])
	}
	for _, from := range sortedKeys(a.Mappings) {
		validateMappings(p, at(path, "mappings", from), from, a.Mappings[from])
	}
	if a.DefaultPermissions != nil {
		validatePerms(p, at(path, "default_permissions"), *a.DefaultPermissions, false)
	}
	if a.UnscopedSigningKeys < 0 {
		p.add(at(path, "unscoped_signing_keys"), "unscoped_signing_keys %d: use a count", a.UnscopedSigningKeys)
	}
	for _, role := range sortedKeys(a.SigningKeys) {
		rp := at(path, "signing_keys", role)
		if strings.TrimSpace(role) == "" {
			p.add(rp, "a signing key role needs a name")
		}
		sc := a.SigningKeys[role]
		if sc == nil {
			a.SigningKeys[role] = &Scope{}
			continue
		}
		validateUserLimits(p, rp, sc.UserLimits, true)
	}
	for _, un := range sortedKeys(a.Users) {
		up := at(path, "users", un)
		if err := store.ValidateName(un); err != nil {
			p.add(up, "user name %q: %v", un, err)
		}
		u := a.Users[un]
		if u == nil {
			a.Users[un] = &User{}
			continue
		}
		validateTags(p, at(up, "tags"), u.Tags)
		if u.Expires != "" {
			if _, err := parseTime(u.Expires); err != nil {
				p.add(at(up, "expires"), "%v", err)
			}
		}
		validateUserLimits(p, up, u.UserLimits, false)
		if u.SigningKey != "" {
			if _, ok := a.SigningKeys[u.SigningKey]; !ok {
				p.add(at(up, "signing_key"), "user %q is signed by role %q, which is not a signing key of account %q (roles: %s)", un, u.SigningKey, name, strings.Join(sortedKeys(a.SigningKeys), ", "))
			} else if !u.UserLimits.empty() {
				p.add(up, "user %q is signed by the scoped signing key %q, which sets its permissions and limits: drop the user's own permissions, or edit the role's scope", un, u.SigningKey)
			}
		}
		// nats-server refuses a bearer user in an account that disallows bearer tokens, whether
		// the user is bearer itself or through its scoped signing key's template.
		if a.Limits != nil && a.Limits.DisallowBearer {
			if sc := a.SigningKeys[u.SigningKey]; u.SigningKey != "" && sc != nil && sc.Bearer {
				p.add(up, "user %q is a bearer user through role %q (its scope says bearer), and account %q disallows bearer tokens: the server would refuse its connections", un, u.SigningKey, name)
			} else if u.Bearer {
				p.add(up, "user %q is a bearer user, and account %q disallows bearer tokens: the server would refuse its connections", un, name)
			}
		}
	}
}

func validateTags(p *problems, path []any, tags []string) {
	for i, t := range tags {
		if _, err := authz.ParseTag(t); err != nil {
			p.add(at(path, i), "tag %q: %v", t, err)
		}
	}
}

func validateExport(p *problems, path []any, e *Export, seen map[string]bool) {
	if err := subjectError(e.Subject, true); err != nil {
		p.add(at(path, "subject"), "export subject: %v", err)
	}
	switch e.Type {
	case "":
		e.Type = "stream"
	case "stream", "service":
	default:
		p.add(at(path, "type"), "export type %q: use stream or service", e.Type)
	}
	key := e.Type + " " + e.Subject
	if seen[key] {
		p.add(path, "the %s export %q is listed twice", e.Type, e.Subject)
	}
	seen[key] = true
	if e.Type != "service" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"response_type", e.ResponseType != ""}, {"response_threshold", e.ResponseThreshold != 0}, {"latency", e.Latency != nil}, {"allow_trace", e.AllowTrace}} {
			if f.set {
				p.add(at(path, f.name), "%s applies only to service exports, and %q is a stream export", f.name, e.Subject)
			}
		}
	}
	if e.ResponseType != "" {
		if _, err := responseType(e.ResponseType); err != nil {
			p.add(at(path, "response_type"), "%v", err)
		}
	}
	if e.Latency != nil {
		if err := subjectError(e.Latency.Results, false); err != nil {
			p.add(at(path, "latency", "results"), "latency results subject: %v", err)
		}
		if _, err := sampling(e.Latency.Sampling); err != nil {
			p.add(at(path, "latency", "sampling"), "%v", err)
		}
	}
	if e.AccountTokenPosition > 0 && e.TokenRequired {
		// nats-server checks the position before an activation: the export would not be private.
		p.add(at(path, "account_token_position"), "a private export (token_required) cannot have an account token position: the importing account's key in the subject is the access check")
	}
	if e.AccountTokenPosition > 0 {
		tokens := strings.Split(e.Subject, ".")
		if int(e.AccountTokenPosition) > len(tokens) || tokens[e.AccountTokenPosition-1] != "*" {
			p.add(at(path, "account_token_position"), "token %d of %q must be * (it holds the importing account's public key)", e.AccountTokenPosition, e.Subject)
		}
	}
}

func validateImport(p *problems, sp *Spec, importer string, path []any, im *Import) {
	if err := subjectError(im.Subject, true); err != nil {
		p.add(at(path, "subject"), "import subject: %v", err)
		return
	}
	if im.LocalSubject != "" {
		if err := subjectError(im.LocalSubject, true); err != nil {
			p.add(at(path, "local_subject"), "local subject: %v", err)
		}
	}
	switch im.Type {
	case "", "stream", "service":
	default:
		p.add(at(path, "type"), "import type %q: use stream or service", im.Type)
		return
	}
	if im.Account == importer {
		p.add(at(path, "account"), "account %q cannot import from itself", importer)
		return
	}
	src, ok := sp.Accounts[im.Account]
	if !ok {
		if nkeys.IsValidPublicAccountKey(im.Account) {
			if im.Type == "" {
				p.add(at(path, "type"), "the import of %q from account %s (not in the file) needs its type: stream or service", im.Subject, im.Account)
			}
			return
		}
		p.add(at(path, "account"), "account %q imports %q from %q, which is not an account of the file (names: %s)", importer, im.Subject, im.Account, strings.Join(sortedKeys(sp.Accounts), ", "))
		return
	}
	var stream, service *Export
	if src != nil {
		for i, e := range src.Exports {
			if !jwt.Subject(im.Subject).IsContainedIn(jwt.Subject(e.Subject)) {
				continue
			}
			t := e.Type
			if t == "" {
				t = "stream"
			}
			if t == "service" && service == nil {
				service = &src.Exports[i]
			} else if t == "stream" && stream == nil {
				stream = &src.Exports[i]
			}
		}
	}
	if im.Type == "" {
		switch {
		case stream != nil:
			im.Type = "stream"
		case service != nil:
			im.Type = "service"
		}
	}
	if (im.Type == "stream" && stream == nil) || (im.Type == "service" && service == nil) || im.Type == "" {
		kind := im.Type
		if kind == "" {
			kind = "stream or service"
		}
		p.add(path, "account %q imports %s %q from %q, which exports no %s covering it", importer, kind, im.Subject, im.Account, kind)
		return
	}
	if im.Share && im.Type != "service" {
		p.add(at(path, "share"), "share applies only to service imports, and %q is a stream", im.Subject)
	}
	if im.AllowTrace && im.Type == "service" {
		p.add(at(path, "allow_trace"), "allow_trace applies only to stream imports, and %q is a service", im.Subject)
	}
}

func validateMappings(p *problems, path []any, from string, list []Mapping) {
	if err := subjectError(from, true); err != nil {
		p.add(path, "mapping from %q: %v", from, err)
		return
	}
	totals := map[string]int{}
	for i, m := range list {
		mp := at(path, i)
		if err := authz.CheckMapping(from, m.To); err != nil {
			p.add(at(mp, "to"), "mapping %q to %q: %v", from, m.To, err)
		}
		w := m.Weight
		if w == 0 {
			w = 100
		}
		if w < 1 || w > 100 {
			p.add(at(mp, "weight"), "weight %d: a percentage from 1 to 100", m.Weight)
		}
		totals[m.Cluster] += w
	}
	for cluster, total := range totals {
		if total > 100 {
			where := ""
			if cluster != "" {
				where = fmt.Sprintf(" in cluster %q", cluster)
			}
			p.add(path, "the mappings of %q%s total %d%%, over 100%%", from, where, total)
		}
	}
}

func validatePerms(p *problems, path []any, perms Permissions, templates bool) {
	check := func(list *PermList, key, kind string, queue bool) {
		if list == nil {
			return
		}
		for _, side := range []struct {
			name string
			subs []string
		}{{"allow", list.Allow}, {"deny", list.Deny}} {
			for i, s := range side.subs {
				sp := at(path, key, side.name, i)
				if err := authz.ValidatePermSubject(kind, s, queue); err != nil {
					p.add(sp, "%v", err)
					continue
				}
				lint := authz.LintTemplate(s)
				if len(lint) > 0 && templates {
					p.add(sp, "template %s", lint[0])
				} else if strings.Contains(s, "{{") && !templates {
					p.add(sp, "%q: templates apply only in a signing key's scope", s)
				}
			}
		}
	}
	check(perms.Pub, "pub", "publish", false)
	check(perms.Sub, "sub", "subscribe", true)
	if perms.Resp != nil && perms.Resp.Max < -1 {
		p.add(at(path, "resp", "max"), "resp max %d: a count of responses, or -1 for unlimited", perms.Resp.Max)
	}
}

func validateUserLimits(p *problems, path []any, u UserLimits, templates bool) {
	validatePerms(p, path, u.Permissions, templates)
	for _, v := range []struct {
		f string
		n *int64
	}{{"subs", u.Subs}, {"data", (*int64)(u.Data)}, {"payload", (*int64)(u.Payload)}} {
		if v.n != nil && *v.n < -1 {
			p.add(at(path, v.f), "%s %d: use a count, or -1 for unlimited", v.f, *v.n)
		}
	}
	for i, c := range u.Src {
		if _, err := authz.ParseCIDR(c); err != nil {
			p.add(at(path, "source_networks", i), "%v", err)
		}
	}
	for i, t := range u.Times {
		if _, err := authz.ParseTimeRange(t.Start + "-" + t.End); err != nil {
			p.add(at(path, "times", i), "%v", err)
		}
	}
	if u.Locale != "" {
		if err := authz.ValidateLocale(u.Locale); err != nil {
			p.add(at(path, "locale"), "%v", err)
		}
	}
	for i, c := range u.ConnTypes {
		if _, err := authz.ParseConnType(c); err != nil {
			p.add(at(path, "conn_types", i), "%v", err)
		}
	}
}

func subjectError(s string, wildcards bool) error {
	if s == "" {
		return errors.New("empty subject")
	}
	vr := jwt.CreateValidationResults()
	jwt.Subject(s).Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return errs[0]
	}
	return authz.ValidateSubject(s, wildcards)
}

func responseType(v string) (jwt.ResponseType, error) { return ops.ParseResponseType(v) }

func sampling(v string) (jwt.SamplingRate, error) {
	if v == "" {
		return 100, nil
	}
	return ops.ParseSampling(v)
}

// parseTime reads an absolute time: yyyy-mm-dd (midnight UTC) or RFC 3339. Relative times
// ("30d") are refused: they would move on every apply.
func parseTime(s string) (int64, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("time %q: use yyyy-mm-dd or an RFC 3339 time (a relative time would move on every apply)", s)
}

// formatTime writes unix seconds the way parseTime reads them, as short as it can.
func formatTime(sec int64) string {
	t := time.Unix(sec, 0).UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
