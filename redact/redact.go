// Package redact keeps seeds out of what signet prints: errors, warnings and log lines show
// what went wrong without echoing a secret the user typed in the wrong place.
package redact

import (
	"log/slog"
	"regexp"

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
