// Package redact keeps secrets out of what signet prints: errors, warnings, answers and log
// lines show what went wrong without echoing a seed the user typed in the wrong place, or the
// password of a server URL.
package redact

import (
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/nats-io/nkeys"
)

// seedLike matches the text of an nkey seed: 'S', the key type, and 56 more base32 characters.
var seedLike = regexp.MustCompile(`S[A-Z2-7]{57}`)

// Seeds replaces every valid nkey seed in s by its first two characters and "…(redacted)".
func Seeds(s string) string {
	if len(s) < 58 {
		return s
	}
	return seedLike.ReplaceAllStringFunc(s, func(m string) string {
		if _, err := nkeys.FromSeed([]byte(m)); err != nil {
			return m
		}
		return m[:2] + "…(redacted)"
	})
}

// LogAttr is a slog ReplaceAttr function that redacts seeds from every string, error and
// message of a log record.
func LogAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) >= 58 {
			a.Value = slog.StringValue(Seeds(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(Seeds(err.Error()))
		}
	}
	return a
}

// URL is a server URL as a log line or an error may show it: a password is replaced by
// "xxxxx", and so is a user without a password (in a NATS URL that is a token). A URL that does
// not parse but may hold credentials is replaced whole, since where they end cannot be told.
// A comma-separated list (as NATS clients take one entry) is redacted URL by URL.
func URL(s string) string {
	if strings.Contains(s, ",") {
		parts := strings.Split(s, ",")
		for i, p := range parts {
			parts[i] = oneURL(strings.TrimSpace(p))
		}
		return strings.Join(parts, ",")
	}
	return oneURL(s)
}

func oneURL(s string) string {
	// Without a scheme (NATS clients take "host:port"), "user:pass@host" would parse as an
	// opaque URL of scheme "user": parse it as a scheme-relative one.
	relative := !strings.Contains(s, "://")
	in := s
	if relative {
		in = "//" + s
	}
	u, err := url.Parse(in)
	switch {
	case err != nil && strings.Contains(s, "@"):
		return "(unparsable url with credentials)"
	case err != nil || u.User == nil:
		return s
	case u.User.Username() != "" && !hasPassword(u.User):
		u.User = url.User("xxxxx")
	default:
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if relative {
		return strings.TrimPrefix(u.String(), "//")
	}
	return u.String()
}

func hasPassword(u *url.Userinfo) bool {
	_, ok := u.Password()
	return ok
}

// URLs joins server URLs with commas, each as URL shows it.
func URLs(urls []string) string {
	out := make([]string, len(urls))
	for i, s := range urls {
		out[i] = URL(s)
	}
	return strings.Join(out, ",")
}
