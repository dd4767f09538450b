package ops

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AddMappingRequest is a weighted subject mapping of an account: messages published on From
// go, Weight percent of the time, to To (in Cluster only, when set).
type AddMappingRequest struct {
	Account string // the account's name or public key
	Signer  string // operator key (-K); "" lets Signer choose
	From    string // wildcards allowed
	To      string // may use mapping functions ({{wildcard(1)}}, ...)
	Weight  int    // a percentage, 1 to 100; 0 (nsc's default) is 100
	Cluster string
}

// AddMapping adds a weighted mapping to an account, or changes the weight of an existing
// From/To pair (of the same cluster), and re-signs the account. The weights of a subject's
// mappings (per cluster) may not total over 100. It takes the store's lock; bad input is an
// error that changes nothing.
func AddMapping(s *store.Store, ks keystore.KeyStore, req AddMappingRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.AddMapping(req) })
}

// AddMapping is AddMapping within the caller's locked step.
func (l *Locked) AddMapping(req AddMappingRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--from", req.From); err != nil {
		return nil, err
	}
	if err := CheckSubject("--to", req.To); err != nil {
		return nil, err
	}
	if err := authz.CheckMapping(req.From, req.To); err != nil {
		return nil, fmt.Errorf("mapping %q to %q: %w", req.From, req.To, err)
	}
	// 0 (nsc's default) is stored as it is, left out of the JWT as nsc leaves it: jwt/v2 and
	// nats-server read a missing weight as 100.
	if req.Weight < 0 || req.Weight > 100 {
		return nil, fmt.Errorf("--weight %d: must be a percentage from 1 to 100 (0 means 100)", req.Weight)
	}
	weight := uint8(req.Weight)
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		if ac.Mappings == nil {
			ac.Mappings = jwt.Mapping{}
		}
		from := jwt.Subject(req.From)
		list := slices.Clone(ac.Mappings[from])
		verb := "added"
		i := slices.IndexFunc(list, func(m jwt.WeightedMapping) bool {
			return string(m.Subject) == req.To && m.Cluster == req.Cluster
		})
		if i >= 0 {
			list[i].Weight = weight
			verb = "updated"
		} else {
			list = append(list, jwt.WeightedMapping{Subject: jwt.Subject(req.To), Weight: weight, Cluster: req.Cluster})
		}
		total := 0
		for _, m := range list {
			if m.Cluster == req.Cluster {
				total += int(m.GetWeight())
			}
		}
		if total > 100 {
			where := ""
			if req.Cluster != "" {
				where = fmt.Sprintf(" in cluster %q", req.Cluster)
			}
			return nil, nil, fmt.Errorf("the mappings of %q%s would total %d%%, over 100%% (now: %s): lower --weight, or remove one with `signet delete mapping -a %s -f %s -t <to>`",
				req.From, where, total, describeMappings(ac.Mappings[from]), shellquote.Quote(name), shellquote.Quote(req.From))
		}
		ac.Mappings[from] = list
		return []string{fmt.Sprintf("%s mapping %q -> %q (%d%%%s) in account %q", verb, req.From, req.To, (&jwt.WeightedMapping{Weight: weight}).GetWeight(), clusterNote(req.Cluster), name)}, nil, nil
	})
}

// DeleteMappingRequest names the mappings of an account to delete: every destination of From,
// or only To, or only those of Cluster.
type DeleteMappingRequest struct {
	Account string // the account's name or public key
	Signer  string // operator key (-K); "" lets Signer choose
	From    string
	To      string // "" for every destination
	Cluster string // "" for every cluster
}

// DeleteMapping removes mapping destinations from an account and re-signs it. It takes the
// store's lock. A mapping that is not there is a warning, and the account is re-signed all the
// same, as nsc does (a cleanup script that runs twice still exits 0).
func DeleteMapping(s *store.Store, ks keystore.KeyStore, req DeleteMappingRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.DeleteMapping(req) })
}

// DeleteMapping is DeleteMapping within the caller's locked step.
func (l *Locked) DeleteMapping(req DeleteMappingRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--from", req.From); err != nil {
		return nil, err
	}
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		from := jwt.Subject(req.From)
		list, ok := ac.Mappings[from]
		if !ok {
			var have []string
			for k := range ac.Mappings {
				have = append(have, fmt.Sprintf("%q", k))
			}
			if len(have) == 0 {
				return nil, []string{fmt.Sprintf("account %q has no mappings: nothing deleted", name)}, nil
			}
			sort.Strings(have)
			return nil, []string{fmt.Sprintf("account %q has no mapping from %q (it maps %s): nothing deleted", name, req.From, strings.Join(have, ", "))}, nil
		}
		if req.To == "" && req.Cluster == "" {
			delete(ac.Mappings, from)
			return []string{fmt.Sprintf("deleted all mappings of %q in account %q", req.From, name)}, nil, nil
		}
		kept := slices.DeleteFunc(slices.Clone(list), func(m jwt.WeightedMapping) bool {
			return (req.To == "" || string(m.Subject) == req.To) && (req.Cluster == "" || m.Cluster == req.Cluster)
		})
		if len(kept) == len(list) {
			return nil, []string{fmt.Sprintf("account %q maps %q to %s, not to %q%s: nothing deleted", name, req.From, describeMappings(list), req.To, clusterNote(req.Cluster))}, nil
		}
		if len(kept) == 0 {
			delete(ac.Mappings, from)
		} else {
			ac.Mappings[from] = kept
		}
		return []string{fmt.Sprintf("deleted %s of %q in account %q", plural.N(len(list)-len(kept), "mapping"), req.From, name)}, nil, nil
	})
}

func clusterNote(cluster string) string {
	if cluster == "" {
		return ""
	}
	return fmt.Sprintf(", cluster %q", cluster)
}

func describeMappings(list []jwt.WeightedMapping) string {
	var parts []string
	for _, m := range list {
		parts = append(parts, fmt.Sprintf("%q %d%%%s", m.Subject, m.GetWeight(), clusterNote(m.Cluster)))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
