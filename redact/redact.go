// Package redact keeps secrets out of what signet prints: errors, warnings, answers and log
// lines show what went wrong without echoing a seed the user typed in the wrong place, or the
// password of a server URL.
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/nats-io/nkeys"
)

// seedRun matches a run of base32 characters long enough to hold an nkey seed ('S', the key
// type, and 56 more).
var seedRun = regexp.MustCompile(`[A-Z2-7]{58,}`)

// seedLen is the length of an nkey seed's text.
const seedLen = 58

// Seeds replaces every valid nkey seed in s by its first two characters and "…(redacted)",
// wherever it starts in a run of base32 characters ("TEST" or "S" right before it included).
func Seeds(s string) string {
	if len(s) < seedLen {
		return s
	}
	return seedRun.ReplaceAllStringFunc(s, func(run string) string {
		var b strings.Builder
		for i := 0; i < len(run); {
			if run[i] == 'S' && i+seedLen <= len(run) {
				if _, err := nkeys.FromSeed([]byte(run[i : i+seedLen])); err == nil {
					b.WriteString(run[i:i+2] + "…(redacted)")
					i += seedLen
					continue
				}
			}
			b.WriteByte(run[i])
			i++
		}
		return b.String()
	})
}

// LogAttr is a slog ReplaceAttr function that redacts seeds from every string, error and
// message of a log record, and from any other value whose text holds one.
func LogAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) >= 58 {
			a.Value = slog.StringValue(Seeds(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Seeds(v.Error()))
		case []byte:
			if s := string(v); Seeds(s) != s {
				a.Value = slog.StringValue(Seeds(s))
			}
		default:
			// Anything else a handler formats: a seed inside a struct, a list or a Stringer.
			if s := fmt.Sprint(v); Seeds(s) != s {
				a.Value = slog.StringValue(Seeds(s))
			}
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

// Logger returns l with every message, attribute (those added with With included) and group
// name redacted before its handler sees them. A logger made by Logger is returned as it is, so
// wrapping twice costs nothing.
func Logger(l *slog.Logger) *slog.Logger {
	if _, ok := l.Handler().(seedHandler); ok {
		return l
	}
	return slog.New(seedHandler{l.Handler()})
}

// seedHandler is the handler of Logger: it passes on redacted copies of what it is given.
type seedHandler struct{ next slog.Handler }

func (h seedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h seedHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Seeds(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h seedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = attr(a)
	}
	return seedHandler{h.next.WithAttrs(out)}
}

func (h seedHandler) WithGroup(name string) slog.Handler {
	return seedHandler{h.next.WithGroup(Seeds(name))}
}

// attr is a redacted, resolved, copy of a, groups included.
func attr(a slog.Attr) slog.Attr {
	a.Key = Seeds(a.Key)
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup {
		return LogAttr(nil, a)
	}
	group := a.Value.Group()
	out := make([]slog.Attr, len(group))
	for i, g := range group {
		out[i] = attr(g)
	}
	a.Value = slog.GroupValue(out...)
	return a
}
