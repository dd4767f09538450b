package authz

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/nats-io/jwt/v2"
)

// ParseSize parses a size or count as nsc does (go-humanize's ParseBytes): "1024", "512K",
// "1MB", "2GiB", "1.5G", "1,000", "1PB", or "-1" (unlimited). K, KB, M, MB, ... E, EB are
// powers of 1000; Ki, KiB, Mi, MiB, ... Ei, EiB are powers of 1024; units are
// case-insensitive. Negative values other than -1, and values beyond an int64, are refused.
func ParseSize(s string) (int64, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, errors.New("empty size: give a number such as 1024, 512K, 1MB, 2GiB or -1 for unlimited")
	}
	if v == "-1" {
		return -1, nil
	}
	if strings.HasPrefix(v, "-") {
		return 0, fmt.Errorf("invalid size %q: the only negative size is -1 (unlimited)", s)
	}
	n, err := humanize.ParseBytes(v)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: give a number such as 1024, 512K, 1.5MB, 2GiB or -1 for unlimited (units K, KB, KiB ... E, EB, EiB)", s)
	}
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: value out of range", s)
	}
	return int64(n), nil
}

var relDateRE = regexp.MustCompile(`^([0-9]+)([smhdwMy])$`)

// maxYear keeps dates within what JWT consumers and time.Time formatting handle well.
const maxYear = 9999

// ParseExpiry parses the value of an --expiry flag into unix seconds relative to now:
// "0" (never expires, returns 0), "yyyy-mm-dd" (midnight UTC), an RFC 3339 time, or a
// duration from now with one unit: s(econds), m(inutes), h(ours), d(ays), w(eeks),
// M(onths), y(ears), for example "30d", "2w", "12h", "1M", "1y".
func ParseExpiry(s string, now time.Time) (int64, error) {
	v, err := parseDate(s, now)
	if err != nil {
		return 0, fmt.Errorf("invalid expiry: %w", err)
	}
	return v, nil
}

// ParseStart parses the value of a --start flag; it accepts the same forms as ParseExpiry
// ("0" meaning valid from the moment it is issued).
func ParseStart(s string, now time.Time) (int64, error) {
	v, err := parseDate(s, now)
	if err != nil {
		return 0, fmt.Errorf("invalid start: %w", err)
	}
	return v, nil
}

func parseDate(s string, now time.Time) (int64, error) {
	v := strings.TrimSpace(s)
	const hint = "use 0, yyyy-mm-dd, an RFC 3339 time or a duration like 30d, 2w, 12h, 1M, 1y"
	if v == "" {
		return 0, fmt.Errorf("empty date: %s", hint)
	}
	if v == "0" {
		return 0, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		if t.Year() > maxYear {
			return 0, fmt.Errorf("date %q is too far in the future", s)
		}
		return t.Unix(), nil
	}
	m := relDateRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("%q is not a date: %s", s, hint)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1_000_000_000 {
		return 0, fmt.Errorf("%q is too far in the future", s)
	}
	var t time.Time
	switch m[2] {
	case "s", "m", "h":
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
		if n > int64(math.MaxInt64/unit) {
			return 0, fmt.Errorf("%q is too far in the future", s)
		}
		t = now.Add(time.Duration(n) * unit)
	case "d", "w", "M", "y":
		if n > 100_000 {
			return 0, fmt.Errorf("%q is too far in the future", s)
		}
		k := int(n)
		switch m[2] {
		case "d":
			t = now.AddDate(0, 0, k)
		case "w":
			t = now.AddDate(0, 0, 7*k)
		case "M":
			t = now.AddDate(0, k, 0)
		default:
			t = now.AddDate(k, 0, 0)
		}
	}
	if t.Year() > maxYear {
		return 0, fmt.Errorf("%q is too far in the future", s)
	}
	return t.Unix(), nil
}

// ValidateSubject checks a NATS subject the way nats-server does (non-empty tokens, no
// whitespace, ">" only as the last token) and, unless allowWildcards, refuses the "*"
// and ">" wildcards.
func ValidateSubject(s string, allowWildcards bool) error {
	if s == "" {
		return errors.New("empty subject")
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			return fmt.Errorf("invalid subject %q: empty token (check for leading, trailing or double dots)", s)
		case strings.ContainsAny(t, " \t\r\n\f"):
			return fmt.Errorf("invalid subject %q: contains whitespace", s)
		case t == ">":
			if !allowWildcards {
				return fmt.Errorf("invalid subject %q: wildcards are not allowed here", s)
			}
			if i != len(tokens)-1 {
				return fmt.Errorf("invalid subject %q: \">\" must be the last token", s)
			}
		case t == "*":
			if !allowWildcards {
				return fmt.Errorf("invalid subject %q: wildcards are not allowed here", s)
			}
		}
	}
	return nil
}

// isValidSubject mirrors nats-server's IsValidSubject, which decides whether an expanded
// template subject is kept. The two are compared in tests.
func isValidSubject(s string) bool {
	if s == "" {
		return false
	}
	sawFWC := false
	for t := range strings.SplitSeq(s, ".") {
		if len(t) == 0 || sawFWC {
			return false
		}
		if len(t) > 1 {
			if strings.ContainsAny(t, "\t\n\f\r ") {
				return false
			}
			continue
		}
		switch t[0] {
		case '>':
			sawFWC = true
		case ' ', '\t', '\n', '\r', '\f':
			return false
		}
	}
	return true
}

// ParseTag validates a tag such as "team:support" and returns it the way jwt stores it:
// trimmed and lower-cased (nsc and the jwt library lower-case tags, and the server's
// {{tag(key)}} template matches lower-case keys). A tag without a colon is allowed; a
// colon needs a key before it and a value after it.
func ParseTag(s string) (string, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return "", errors.New("empty tag: use key:value, for example team:support")
	}
	if strings.ContainsAny(v, " \t\r\n\f") {
		return "", fmt.Errorf("invalid tag %q: contains whitespace", s)
	}
	if k, val, ok := strings.Cut(v, ":"); ok && (k == "" || val == "") {
		return "", fmt.Errorf("invalid tag %q: use key:value with a non-empty key and value", s)
	}
	return strings.ToLower(v), nil
}

// ParseTags validates every tag (see ParseTag) and returns them normalised.
func ParseTags(tags []string) ([]string, error) {
	return parseAll(tags, ParseTag)
}

// ParseTimeRange parses a daily connect window "hh:mm:ss-hh:mm:ss" (24h clock, in the
// user's locale) into a jwt.TimeRange.
func ParseTimeRange(s string) (jwt.TimeRange, error) {
	v := strings.TrimSpace(s)
	start, end, ok := strings.Cut(v, "-")
	if !ok {
		return jwt.TimeRange{}, fmt.Errorf("invalid time range %q: use start-end, for example 08:00:00-17:00:00", s)
	}
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	for _, t := range []string{start, end} {
		if _, err := time.Parse("15:04:05", t); err != nil {
			return jwt.TimeRange{}, fmt.Errorf("invalid time range %q: %q is not hh:mm:ss (24h clock)", s, t)
		}
	}
	return jwt.TimeRange{Start: start, End: end}, nil
}

// ParseCIDR validates a source network for a user (--source-network) and returns it in
// canonical form. A bare IP address is refused with a hint, since the server only
// understands CIDR blocks.
func ParseCIDR(s string) (string, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return "", errors.New("empty source network: use a CIDR block such as 192.168.1.0/24")
	}
	_, n, err := net.ParseCIDR(v)
	if err != nil {
		if ip := net.ParseIP(v); ip != nil {
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			return "", fmt.Errorf("invalid source network %q: use a CIDR block, for example %s/%d", s, v, bits)
		}
		return "", fmt.Errorf("invalid source network %q: use a CIDR block such as 192.168.1.0/24", s)
	}
	return n.String(), nil
}

// ConnTypes lists the connection types a user may be restricted to.
func ConnTypes() []string {
	return []string{
		jwt.ConnectionTypeStandard, jwt.ConnectionTypeWebsocket, jwt.ConnectionTypeLeafnode,
		jwt.ConnectionTypeLeafnodeWS, jwt.ConnectionTypeMqtt, jwt.ConnectionTypeMqttWS,
		jwt.ConnectionTypeInProcess,
	}
}

// ParseConnType validates a connection type (case-insensitive) and returns the jwt constant.
func ParseConnType(s string) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	for _, t := range ConnTypes() {
		if v == t {
			return t, nil
		}
	}
	return "", fmt.Errorf("invalid connection type %q: use one of %s", s, strings.Join(ConnTypes(), ", "))
}

// ValidateLocale checks an IANA time zone name such as "Europe/Berlin" or "UTC", used to
// interpret a user's connect time ranges.
func ValidateLocale(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty locale: use an IANA time zone such as UTC or Europe/Berlin")
	}
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Errorf("invalid locale %q: use an IANA time zone such as UTC or Europe/Berlin", s)
	}
	return nil
}
