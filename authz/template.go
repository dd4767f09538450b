package authz

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// mustacheRE is the pattern nats-server uses to find template functions in a scoped
// signing key's subjects (server/auth.go).
var mustacheRE = regexp.MustCompile(`{{2}([^}]+)}{2}`)

// maxTemplateExpansions is the server's limit on subjects one list may expand to.
const maxTemplateExpansions = 4096

// ErrTemplateExpansionLimit is returned when a template expands to more subjects than
// the server accepts.
var ErrTemplateExpansionLimit = errors.New("template expansion exceeds limit")

// tagOp mirrors the server's isTag: the prefix matches case-insensitively, but the prefix
// is then trimmed case-sensitively, so "TAG(x)" yields the key "TAG(x" that never matches.
func tagOp(op string) (kind, key string, ok bool) {
	if len(op) >= 4 && strings.EqualFold("tag(", op[:4]) && strings.HasSuffix(op, ")") {
		return "tag", strings.TrimSuffix(strings.TrimPrefix(op, "tag("), ")"), true
	}
	if len(op) >= 12 && strings.EqualFold("account-tag(", op[:12]) && strings.HasSuffix(op, ")") {
		return "account-tag", strings.TrimSuffix(strings.TrimPrefix(op, "account-tag("), ")"), true
	}
	return "", "", false
}

// cartesian returns every combination taking one value from each list, the last list
// varying fastest (the order nats-server produces).
func cartesian(lists [][]string) [][]string {
	n := 1
	for _, l := range lists {
		n *= len(l)
	}
	if n == 0 {
		return nil
	}
	out := make([][]string, 0, n)
	idx := make([]int, len(lists))
	for range n {
		combo := make([]string, len(lists))
		for j := range lists {
			combo[j] = lists[j][idx[j]]
		}
		out = append(out, combo)
		for j := len(idx) - 1; j >= 0; j-- {
			idx[j]++
			if idx[j] < len(lists[j]) {
				break
			}
			idx[j] = 0
		}
	}
	return out
}

// templateCtx carries what the server knows about the connecting user.
type templateCtx struct {
	user *jwt.UserClaims
	acc  *jwt.AccountClaims
}

// expandList reproduces the server's applyTemplate for one list. Entries of an allow
// list (isDeny false) that cannot be expanded are dropped and reported in dropped;
// for a deny list they are an error, as they refuse the connection.
func (c templateCtx) expandList(list jwt.StringList, isDeny bool, label string) (jwt.StringList, []string, error) {
	found := false
	for _, s := range list {
		if mustacheRE.MatchString(s) {
			found = true
			break
		}
	}
	if !found {
		return append(jwt.StringList(nil), list...), nil, nil
	}
	var dropped []string
	emitted := make(jwt.StringList, 0, len(list))
	for _, entry := range list {
		tokens := mustacheRE.FindAllString(entry, -1)
		values := make([][]string, len(tokens))
		hasTags := false
		for i, tk := range tokens {
			op := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(tk, "{{"), "}}"))
			switch {
			case strings.EqualFold("name()", op):
				values[i] = []string{c.user.Name}
			case strings.EqualFold("subject()", op):
				values[i] = []string{c.user.Subject}
			case strings.EqualFold("account-name()", op):
				values[i] = []string{c.acc.Name}
			case strings.EqualFold("account-subject()", op):
				// The server reads issuer_account; a preview of a user not yet signed
				// falls back to the account it will be issued for.
				v := c.user.IssuerAccount
				if v == "" {
					v = c.acc.Subject
				}
				values[i] = []string{v}
			default:
				kind, key, ok := tagOp(op)
				if !ok {
					return nil, nil, fmt.Errorf("template operation in %q: %q is not defined", entry, op)
				}
				hasTags = true
				tags := c.user.Tags
				if kind == "account-tag" {
					tags = c.acc.Tags
				}
				prefix := strings.ToLower(key) + ":"
				var vals []string
				for _, t := range tags {
					if v, ok := strings.CutPrefix(t, prefix); ok {
						vals = append(vals, v)
					}
				}
				switch {
				case len(vals) > 0:
					values[i] = vals
				case isDeny:
					return nil, nil, fmt.Errorf("generated invalid subject %q: %q is not defined", entry, key)
				default:
					// The server substitutes a space, which makes the subject invalid.
					values[i] = []string{" "}
				}
			}
		}
		var combos [][]string
		if !hasTags {
			combo := make([]string, len(values))
			for i, v := range values {
				combo[i] = v[0]
			}
			combos = [][]string{combo}
		} else {
			count := 1
			for _, v := range values {
				if count > maxTemplateExpansions/len(v) {
					return nil, nil, fmt.Errorf("%s %q: %w: %d", label, entry, ErrTemplateExpansionLimit, maxTemplateExpansions)
				}
				count *= len(v)
			}
			if len(emitted) > maxTemplateExpansions-count {
				return nil, nil, fmt.Errorf("%s %q: %w: %d", label, entry, ErrTemplateExpansionLimit, maxTemplateExpansions)
			}
			combos = cartesian(values)
		}
		for _, combo := range combos {
			subj := entry
			for j, tk := range tokens {
				subj = strings.ReplaceAll(subj, tk, combo[j])
			}
			switch {
			case isValidSubject(subj):
				emitted = append(emitted, subj)
			case isDeny:
				return nil, nil, fmt.Errorf("%s %q generated invalid subject %q", label, entry, subj)
			default:
				dropped = append(dropped, fmt.Sprintf("%s %q dropped: expands to invalid subject %q", label, entry, subj))
			}
		}
	}
	return emitted, dropped, nil
}

// ExpandScopedUser computes the permissions nats-server gives user when it connects
// with a JWT signed by the scoped signing key scope of account acc: the scope's
// template with {{name()}}, {{subject()}}, {{account-name()}}, {{account-subject()}},
// {{tag(key)}} and {{account-tag(key)}} expanded exactly as the server does (several
// tag values give every combination; an allow entry that cannot be expanded is dropped;
// an allow list that ends up empty becomes deny ">"). The warnings say which entries
// were dropped and which lists now deny everything. An error means the server would
// refuse the connection (unknown function, unexpandable deny entry, too many subjects).
// scope is not modified.
func ExpandScopedUser(scope *jwt.UserScope, user *jwt.UserClaims, acc *jwt.AccountClaims) (jwt.UserPermissionLimits, []string, error) {
	if scope == nil || user == nil || acc == nil {
		return jwt.UserPermissionLimits{}, nil, errors.New("expand scoped user: scope, user and account are required")
	}
	lim := copyLimits(scope.Template)
	c := templateCtx{user: user, acc: acc}
	var warnings []string
	subAllowWasSet := len(lim.Sub.Allow) > 0
	pubAllowWasSet := len(lim.Pub.Allow) > 0
	steps := []struct {
		list   *jwt.StringList
		isDeny bool
		label  string
	}{
		{&lim.Sub.Allow, false, "allow sub"},
		{&lim.Sub.Deny, true, "deny sub"},
		{&lim.Pub.Allow, false, "allow pub"},
		{&lim.Pub.Deny, true, "deny pub"},
	}
	for _, st := range steps {
		out, dropped, err := c.expandList(*st.list, st.isDeny, st.label)
		if err != nil {
			return jwt.UserPermissionLimits{}, warnings, fmt.Errorf("scoped signing key %s: the server refuses the connection: %w", scope.Key, err)
		}
		*st.list = out
		warnings = append(warnings, dropped...)
	}
	if subAllowWasSet && len(lim.Sub.Allow) == 0 {
		lim.Sub.Deny.Add(">")
		warnings = append(warnings, `no allow sub entry expanded: subscribing is denied (deny sub ">")`)
	}
	if pubAllowWasSet && len(lim.Pub.Allow) == 0 {
		lim.Pub.Deny.Add(">")
		warnings = append(warnings, `no allow pub entry expanded: publishing is denied (deny pub ">")`)
	}
	if lim.Resp != nil && len(lim.Pub.Allow) == 0 {
		// nats-server's validateResponsePermissions turns the blanket publish allow off.
		warnings = append(warnings, "response permissions without allow pub: the server only lets this user publish replies to requests it received")
	}
	return lim, warnings, nil
}

// copyLimits deep-copies the slices and pointers of lim so that expanding a template
// never writes into the scope it came from.
func copyLimits(lim jwt.UserPermissionLimits) jwt.UserPermissionLimits {
	out := lim
	out.Pub.Allow, out.Pub.Deny = slices.Clone(lim.Pub.Allow), slices.Clone(lim.Pub.Deny)
	out.Sub.Allow, out.Sub.Deny = slices.Clone(lim.Sub.Allow), slices.Clone(lim.Sub.Deny)
	if lim.Resp != nil {
		r := *lim.Resp
		out.Resp = &r
	}
	out.Src = slices.Clone(lim.Src)
	out.Times = slices.Clone(lim.Times)
	out.AllowedConnectionTypes = slices.Clone(lim.AllowedConnectionTypes)
	return out
}

// LintTemplate returns warnings for a permission subject that holds template functions
// the server can never expand: unknown functions, tag functions with an empty or
// upper-case name (the server only matches lower-case "tag(" prefixes), and braces
// that do not form a {{function()}} pair.
func LintTemplate(subject string) []string {
	var out []string
	for _, tk := range mustacheRE.FindAllString(subject, -1) {
		op := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(tk, "{{"), "}}"))
		switch {
		case strings.EqualFold(op, "name()"), strings.EqualFold(op, "subject()"),
			strings.EqualFold(op, "account-name()"), strings.EqualFold(op, "account-subject()"):
			continue
		}
		kind, key, ok := tagOp(op)
		if !ok {
			out = append(out, fmt.Sprintf("%q: unknown template function %q (known: name(), subject(), account-name(), account-subject(), tag(key), account-tag(key)); the server refuses every user of this key", subject, op))
			continue
		}
		switch {
		case strings.TrimSpace(key) == "":
			out = append(out, fmt.Sprintf("%q: %s() needs a tag key, as in %s(team)", subject, kind, kind))
		case !strings.HasPrefix(op, kind+"("):
			out = append(out, fmt.Sprintf("%q: write %q in lower case; the server reads %q as the tag key %q, which never matches", subject, kind+"(", op, key))
		case strings.ContainsAny(key, "() {}:"):
			out = append(out, fmt.Sprintf("%q: tag key %q can never match a tag", subject, key))
		}
	}
	rest := mustacheRE.ReplaceAllString(subject, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		out = append(out, fmt.Sprintf("%q: malformed template braces; use {{function()}}", subject))
	} else if strings.ContainsAny(rest, "{}") && mustacheRE.MatchString(subject) {
		out = append(out, fmt.Sprintf("%q: stray brace next to a template; use {{function()}}", subject))
	}
	return out
}
