package authz

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// UserPermOptions are the user permission and limit settings nsc exposes as flags on
// add/edit user and edit signing-key (and, for the permission half, on an account's
// default permissions). The zero value changes nothing. The internal/cli/flags package
// binds it to a flag set.
type UserPermOptions struct {
	AllowPub    []string // --allow-pub
	AllowSub    []string // --allow-sub ("subject" or "subject queue")
	AllowPubSub []string // --allow-pubsub
	DenyPub     []string // --deny-pub
	DenySub     []string // --deny-sub
	DenyPubSub  []string // --deny-pubsub
	Rm          []string // --rm: removed from every allow and deny list

	AllowPubResponse    int    // --allow-pub-response[=n]: max responses
	AllowPubResponseSet bool   // whether --allow-pub-response was given
	ResponseTTL         string // --response-ttl, a Go duration such as 5s
	RmResponsePerms     bool   // --rm-response-perms

	Bearer *bool // --bearer; nil leaves it as it is

	SourceNetworks   []string // --source-network (CIDR)
	RmSourceNetworks []string // --rm-source-network
	Times            []string // --time hh:mm:ss-hh:mm:ss
	RmTimes          []string // --rm-time (start, or start-end)
	Locale           string   // --locale (IANA time zone)
	ConnTypes        []string // --conn-type
	RmConnTypes      []string // --rm-conn-type

	Subs    string // --subs: max subscriptions (-1 unlimited)
	Data    string // --data: max bytes (units allowed)
	Payload string // --payload: max message payload (units allowed)
}

// flagSet pairs a flag name with whether its option is set.
type flagSet struct {
	name string
	set  bool
}

// setNames returns "--name" for every set flag, in order.
func setNames(flags ...flagSet) []string {
	var out []string
	for _, f := range flags {
		if f.set {
			out = append(out, "--"+f.name)
		}
	}
	return out
}

// permissionFlags reports the set options that belong to jwt.Permissions.
func (o *UserPermOptions) permissionFlags() []string {
	return setNames(
		flagSet{"allow-pub", len(o.AllowPub) > 0},
		flagSet{"allow-sub", len(o.AllowSub) > 0},
		flagSet{"allow-pubsub", len(o.AllowPubSub) > 0},
		flagSet{"deny-pub", len(o.DenyPub) > 0},
		flagSet{"deny-sub", len(o.DenySub) > 0},
		flagSet{"deny-pubsub", len(o.DenyPubSub) > 0},
		flagSet{"rm", len(o.Rm) > 0},
		flagSet{"allow-pub-response", o.AllowPubResponseSet},
		flagSet{"response-ttl", o.ResponseTTL != ""},
		flagSet{"rm-response-perms", o.RmResponsePerms},
	)
}

// limitFlags reports the set options that are user limits rather than permissions.
func (o *UserPermOptions) limitFlags() []string {
	return setNames(
		flagSet{"bearer", o.Bearer != nil},
		flagSet{"source-network", len(o.SourceNetworks) > 0},
		flagSet{"rm-source-network", len(o.RmSourceNetworks) > 0},
		flagSet{"time", len(o.Times) > 0},
		flagSet{"rm-time", len(o.RmTimes) > 0},
		flagSet{"locale", o.Locale != ""},
		flagSet{"conn-type", len(o.ConnTypes) > 0},
		flagSet{"rm-conn-type", len(o.RmConnTypes) > 0},
		flagSet{"subs", o.Subs != ""},
		flagSet{"data", o.Data != ""},
		flagSet{"payload", o.Payload != ""},
	)
}

// SetFlags names the flags (with their leading dashes) whose options are set, for
// errors such as "a user signed by a scoped key cannot have --allow-pub".
func (o *UserPermOptions) SetFlags() []string {
	return append(o.permissionFlags(), o.limitFlags()...)
}

// HasPermissionChanges reports whether any permission or limit option is set.
func (o *UserPermOptions) HasPermissionChanges() bool {
	return len(o.SetFlags()) > 0
}

// TemplateWarnings lints every subject given to an allow or deny option as a scoped
// signing key template (see LintTemplate).
func (o *UserPermOptions) TemplateWarnings() []string {
	var out []string
	for _, list := range [][]string{o.AllowPub, o.AllowSub, o.AllowPubSub, o.DenyPub, o.DenySub, o.DenyPubSub} {
		for _, s := range list {
			out = append(out, LintTemplate(s)...)
		}
	}
	return out
}

// userPermPlan is the parsed, validated form of UserPermOptions.
type userPermPlan struct {
	ttl                         time.Duration
	hasTTL                      bool
	src, rmSrc                  []string
	times                       []jwt.TimeRange
	rmTimes                     []jwt.TimeRange // End empty: match on Start only
	connTypes, rmConnTypes      []string
	subs, data, payload         int64
	hasSubs, hasData, hasPaylod bool
}

// validatePubSubject checks a publish permission subject; templates count as one token.
func validatePermSubject(kind, s string, queueAllowed bool) error {
	masked := mustacheRE.ReplaceAllString(s, "T")
	subj, queue, hasQueue := strings.Cut(masked, " ")
	if hasQueue {
		if !queueAllowed {
			return fmt.Errorf("%s permission %q contains a space (only subscribe permissions take a queue)", kind, s)
		}
		if queue == "" || strings.ContainsAny(queue, " \t\r\n\f") {
			return fmt.Errorf("%s permission %q: use \"subject\" or \"subject queue\" (one space)", kind, s)
		}
	}
	if err := ValidateSubject(subj, true); err != nil {
		return fmt.Errorf("%s permission %q: %w", kind, s, err)
	}
	return nil
}

func (o *UserPermOptions) validatePermissions() (userPermPlan, error) {
	var p userPermPlan
	check := func(kind string, queue bool, lists ...[]string) error {
		for _, l := range lists {
			for _, s := range l {
				if err := validatePermSubject(kind, s, queue); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check("publish", false, o.AllowPub, o.AllowPubSub, o.DenyPub, o.DenyPubSub); err != nil {
		return p, err
	}
	if err := check("subscribe", true, o.AllowSub, o.DenySub); err != nil {
		return p, err
	}
	for _, s := range o.Rm {
		if strings.TrimSpace(s) == "" {
			return p, errors.New("--rm needs a subject")
		}
	}
	if o.AllowPubResponseSet && o.AllowPubResponse < -1 {
		return p, fmt.Errorf("invalid --allow-pub-response %d: use a count of responses (-1 for unlimited)", o.AllowPubResponse)
	}
	if o.ResponseTTL != "" {
		d, err := time.ParseDuration(o.ResponseTTL)
		if err != nil || d < 0 {
			return p, fmt.Errorf("invalid --response-ttl %q: use a duration such as 500ms, 5s, 1m or 1h", o.ResponseTTL)
		}
		p.ttl, p.hasTTL = d, true
	}
	if o.RmResponsePerms && (o.AllowPubResponseSet || o.ResponseTTL != "") {
		return p, errors.New("--rm-response-perms cannot be combined with --allow-pub-response or --response-ttl")
	}
	return p, nil
}

// parseAll parses every value with parse, stopping at the first error.
func parseAll[T any](values []string, parse func(string) (T, error)) ([]T, error) {
	out := make([]T, 0, len(values))
	for _, v := range values {
		r, err := parse(v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// parseRmTime accepts the start of a time range (removing every range that starts then)
// or a whole range; End stays empty in the first case.
func parseRmTime(s string) (jwt.TimeRange, error) {
	if strings.Contains(s, "-") {
		return ParseTimeRange(s)
	}
	v := strings.TrimSpace(s)
	if _, err := time.Parse("15:04:05", v); err != nil {
		return jwt.TimeRange{}, fmt.Errorf("invalid --rm-time %q: give the start (hh:mm:ss) or the range (hh:mm:ss-hh:mm:ss)", s)
	}
	return jwt.TimeRange{Start: v}, nil
}

func (o *UserPermOptions) validate() (userPermPlan, error) {
	p, err := o.validatePermissions()
	if err != nil {
		return p, err
	}
	if p.src, err = parseAll(o.SourceNetworks, ParseCIDR); err != nil {
		return p, err
	}
	if p.rmSrc, err = parseAll(o.RmSourceNetworks, ParseCIDR); err != nil {
		return p, err
	}
	if p.times, err = parseAll(o.Times, ParseTimeRange); err != nil {
		return p, err
	}
	if p.rmTimes, err = parseAll(o.RmTimes, parseRmTime); err != nil {
		return p, err
	}
	if o.Locale != "" {
		if err := ValidateLocale(o.Locale); err != nil {
			return p, err
		}
	}
	if p.connTypes, err = parseAll(o.ConnTypes, ParseConnType); err != nil {
		return p, err
	}
	if p.rmConnTypes, err = parseAll(o.RmConnTypes, ParseConnType); err != nil {
		return p, err
	}
	size := func(flag, s string, dst *int64, has *bool) error {
		if s == "" {
			return nil
		}
		v, err := ParseSize(s)
		if err != nil {
			return fmt.Errorf("--%s: %w", flag, err)
		}
		*dst, *has = v, true
		return nil
	}
	if err := size("subs", o.Subs, &p.subs, &p.hasSubs); err != nil {
		return p, err
	}
	if err := size("data", o.Data, &p.data, &p.hasData); err != nil {
		return p, err
	}
	if err := size("payload", o.Payload, &p.payload, &p.hasPaylod); err != nil {
		return p, err
	}
	return p, nil
}

// Apply validates every option and then applies them to lim (a user's permissions and
// limits, or a scoped signing key's Template). It returns nsc-style status lines such
// as `added pub "foo"` and `set max responses to 1`. On error lim is unchanged.
func (o *UserPermOptions) Apply(lim *jwt.UserPermissionLimits) ([]string, error) {
	if lim == nil {
		return nil, errors.New("apply user permissions: no permissions to edit")
	}
	p, err := o.validate()
	if err != nil {
		return nil, err
	}
	changes := o.applyPermissions(&lim.Permissions, p)

	if o.Bearer != nil {
		lim.BearerToken = *o.Bearer
		changes = append(changes, fmt.Sprintf("changed bearer to %t", *o.Bearer))
	}
	changes = append(changes, editList(&lim.Src, p.src, p.rmSrc, "src network")...)
	for _, tr := range p.times {
		if !slices.Contains(lim.Times, tr) {
			lim.Times = append(lim.Times, tr)
			changes = append(changes, fmt.Sprintf("added time range %s-%s", tr.Start, tr.End))
		}
	}
	for _, rm := range p.rmTimes {
		lim.Times = slices.DeleteFunc(lim.Times, func(tr jwt.TimeRange) bool {
			if tr.Start == rm.Start && (rm.End == "" || tr.End == rm.End) {
				changes = append(changes, fmt.Sprintf("removed time range %s-%s", tr.Start, tr.End))
				return true
			}
			return false
		})
	}
	if o.Locale != "" {
		lim.Locale = o.Locale
		changes = append(changes, fmt.Sprintf("changed locale to %q", o.Locale))
	}
	changes = append(changes, editList(&lim.AllowedConnectionTypes, p.connTypes, p.rmConnTypes, "connection type")...)
	if p.hasSubs {
		lim.Subs = p.subs
		changes = append(changes, fmt.Sprintf("changed max subscriptions to %d", p.subs))
	}
	if p.hasData {
		lim.Data = p.data
		changes = append(changes, fmt.Sprintf("changed max data to %d bytes", p.data))
	}
	if p.hasPaylod {
		lim.Payload = p.payload
		changes = append(changes, fmt.Sprintf("changed max payload to %d bytes", p.payload))
	}
	return changes, nil
}

// ApplyPermissions applies the permission options to perms (an account's default
// permissions). Limit options (--bearer, --subs, --source-network, ...) do not belong
// to jwt.Permissions and are refused by name. On error perms is unchanged.
func (o *UserPermOptions) ApplyPermissions(perms *jwt.Permissions) ([]string, error) {
	if perms == nil {
		return nil, errors.New("apply permissions: no permissions to edit")
	}
	if lf := o.limitFlags(); len(lf) > 0 {
		return nil, fmt.Errorf("%s only apply to users and signing keys, not to default permissions", strings.Join(lf, ", "))
	}
	p, err := o.validatePermissions()
	if err != nil {
		return nil, err
	}
	return o.applyPermissions(perms, p), nil
}

func (o *UserPermOptions) applyPermissions(perms *jwt.Permissions, p userPermPlan) []string {
	var changes []string
	if o.RmResponsePerms {
		if perms.Resp != nil {
			perms.Resp = nil
			changes = append(changes, "removed response permissions")
		}
	}
	if o.AllowPubResponseSet {
		if perms.Resp == nil {
			perms.Resp = &jwt.ResponsePermission{}
		}
		perms.Resp.MaxMsgs = o.AllowPubResponse
		changes = append(changes, fmt.Sprintf("set max responses to %d", o.AllowPubResponse))
	}
	if p.hasTTL {
		if perms.Resp == nil {
			perms.Resp = &jwt.ResponsePermission{}
		}
		perms.Resp.Expires = p.ttl
		changes = append(changes, fmt.Sprintf("set response ttl to %v", p.ttl))
	}
	edit := func(list *jwt.StringList, label string, add ...[]string) {
		changes = append(changes, editList(list, slices.Concat(add...), o.Rm, label)...)
		sort.Strings(*list)
	}
	edit(&perms.Pub.Allow, "pub", o.AllowPub, o.AllowPubSub)
	edit(&perms.Pub.Deny, "deny pub", o.DenyPub, o.DenyPubSub)
	edit(&perms.Sub.Allow, "sub", o.AllowSub, o.AllowPubSub)
	edit(&perms.Sub.Deny, "deny sub", o.DenySub, o.DenyPubSub)
	return changes
}

// editableList is what jwt.StringList and jwt.CIDRList have in common.
type editableList interface {
	Contains(string) bool
	Add(...string)
	Remove(...string)
}

// editList adds and removes values, reporting only what actually changed
// (`added sub "x"`, `removed src network "10.0.0.0/8"`).
func editList(l editableList, add, rm []string, label string) []string {
	var changes []string
	for _, v := range add {
		if !l.Contains(v) {
			l.Add(v)
			changes = append(changes, fmt.Sprintf("added %s %q", label, v))
		}
	}
	for _, v := range rm {
		if l.Contains(v) {
			l.Remove(v)
			changes = append(changes, fmt.Sprintf("removed %s %q", label, v))
		}
	}
	return changes
}
