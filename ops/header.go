package ops

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
)

// Header is what every entity's JWT carries besides its own claims: the validity window and
// the tags. The zero value changes nothing.
type Header struct {
	Start  string   // valid from: 0 (now), yyyy-mm-dd, RFC 3339, or a duration such as 1d
	Expiry string   // valid until: 0 (never), yyyy-mm-dd, RFC 3339, or a duration such as 30d
	Tags   []string // tags to add (key:value or a word)
	RmTags []string // tags to remove (any case)
}

// Changed reports whether the header changes anything.
func (h *Header) Changed() bool {
	return h.Start != "" || h.Expiry != "" || len(h.Tags) > 0 || len(h.RmTags) > 0
}

// ApplyGeneric validates the header and then applies it to a claim's header fields (times
// relative to now); on error nothing is changed.
func (h *Header) ApplyGeneric(g *jwt.GenericFields, cd *jwt.ClaimsData, now time.Time) error {
	var start, exp int64
	var err error
	if h.Start != "" {
		if start, err = authz.ParseStart(h.Start, now); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	if h.Expiry != "" {
		if exp, err = authz.ParseExpiry(h.Expiry, now); err != nil {
			return fmt.Errorf("--expiry: %w", err)
		}
	}
	add, err := authz.ParseTags(h.Tags)
	if err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	rm, err := authz.ParseTags(h.RmTags)
	if err != nil {
		return fmt.Errorf("--rm-tag: %w", err)
	}
	if h.Start != "" {
		cd.NotBefore = start
	}
	if h.Expiry != "" {
		cd.Expires = exp
	}
	for _, t := range add {
		if !slices.Contains(g.Tags, t) {
			g.Tags = append(g.Tags, t)
		}
	}
	for _, t := range rm {
		g.Tags = slices.DeleteFunc(g.Tags, func(x string) bool { return strings.EqualFold(x, t) })
	}
	return nil
}

// now is t, or the current time when t is zero: requests carry an optional clock.
func now(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
