package authz

import (
	"fmt"
	"sort"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
)

// CheckMapping reports whether nats-server can install a mapping of from to to: the checks
// its account loading makes (server.ValidateMapping, then building the transform, which also
// catches a function argument out of range, such as {{wildcard(5)}} for a subject with one
// wildcard). A mapping that passes jwt's own validation but fails here makes nats-server
// refuse the whole account JWT.
func CheckMapping(from, to string) error {
	if err := server.ValidateMapping(from, to); err != nil {
		return err
	}
	if _, err := server.NewSubjectTransform(from, to); err != nil {
		return err
	}
	return nil
}

// CheckAccountMappings checks every mapping of an account JWT as nats-server does before it
// stores or installs one: each destination once per subject, weights of at most 100 each and
// in total per cluster, and each mapping installable (CheckMapping).
func CheckAccountMappings(ac *jwt.AccountClaims) error {
	froms := make([]string, 0, len(ac.Mappings))
	for from := range ac.Mappings {
		froms = append(froms, string(from))
	}
	sort.Strings(froms)
	for _, from := range froms {
		seen := map[string]bool{}
		total := map[string]int{}
		for _, m := range ac.Mappings[jwt.Subject(from)] {
			to := string(m.Subject)
			if seen[to] {
				return fmt.Errorf("mapping %q: %q appears twice", from, to)
			}
			seen[to] = true
			w := int(m.GetWeight())
			if w > 100 {
				return fmt.Errorf("mapping %q to %q: weight %d is over 100", from, to, w)
			}
			if total[m.Cluster] += w; total[m.Cluster] > 100 {
				return fmt.Errorf("mapping %q: weights total over 100", from)
			}
			if err := CheckMapping(from, to); err != nil {
				return fmt.Errorf("mapping %q to %q: %w", from, to, err)
			}
		}
	}
	return nil
}
