package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// builtinOperators are the well-known operators signet knows without configuration, as nsc does.
var builtinOperators = map[string]string{
	"synadia": "https://www.synadia.com/jwt/v1/operator",
}

// WellKnownURL returns the operator JWT URL of a well-known operator: from the environment
// variable nsc_<name>_operator (matched without regard to case), else the built-in list.
func WellKnownURL(f *cmdutil.Factory, name string) (string, bool) {
	want := strings.ToLower("nsc_" + name + "_operator")
	if f.Environ != nil {
		for _, kv := range f.Environ() {
			k, v, ok := strings.Cut(kv, "=")
			if ok && strings.ToLower(k) == want && v != "" {
				return v, true
			}
		}
	}
	u, ok := builtinOperators[strings.ToLower(name)]
	return u, ok
}

// ImportOperator adds an operator from a URL, a file, or a well-known name (used by
// `add operator -u` and `init -u/-o`). An operator whose key the keystore does not hold is
// marked managed. name overrides the operator's own name when set.
func ImportOperator(f *cmdutil.Factory, source, name string) error {
	return importOperator(f, source, name, false)
}

// importOperator is ImportOperator; force (add operator --force, as in nsc) also replaces an
// existing store's operator JWT when it holds another operator key.
func importOperator(f *cmdutil.Factory, source, name string, force bool) error {
	token, err := fetchOperator(f, source)
	if err != nil {
		return err
	}
	oc, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		return fmt.Errorf("%s does not hold a valid operator JWT: %w", source, err)
	}
	if name == "" {
		name = oc.Name
	}
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("operator name %q from the JWT is not usable (%v): pass -n NAME", name, err)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	managed := !ks.Has(oc.Subject)
	if existing, err := stores.Open(name); err == nil {
		// Re-importing refreshes the operator JWT of an existing store (e.g. new signing keys).
		old, _, err := existing.Operator()
		if err != nil {
			return err
		}
		if old.Subject != oc.Subject {
			if !force {
				return fmt.Errorf("operator %q exists with another key (%s): choose another name with -n, or pass --force to replace it", name, old.Subject)
			}
			f.IO.Warn("operator %q held another key (%s): replaced, as --force asks", name, old.Subject)
		}
		unlock, err := existing.Lock()
		if err != nil {
			return err
		}
		defer unlock()
		if err := existing.SaveOperator(token); err != nil {
			return err
		}
		f.IO.OK("updated operator %q from %s", name, source)
		return f.Select(name, "")
	}
	if _, err := stores.Create(name, token, managed); err != nil {
		return err
	}
	if managed {
		f.IO.OK("imported managed operator %q (%s)", name, oc.Subject)
		if oc.AccountServerURL == "" {
			f.IO.Warn("operator %q has no account server URL: accounts cannot be pushed to it", name)
		}
	} else {
		f.IO.OK("imported operator %q (%s)", name, oc.Subject)
	}
	return f.Select(name, "")
}

func fetchOperator(f *cmdutil.Factory, source string) (string, error) {
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		token, _, err := remote.FetchOperatorJWT(context.Background(), f.HTTP, source)
		if err != nil {
			// The error names the URL fetched (source, or the operator URL under it).
			return "", cmdutil.WithRefusedHint(err, source)
		}
		return token, nil
	}
	if data, err := os.ReadFile(source); err == nil {
		return strings.TrimSpace(string(data)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read operator file %q: %w", source, err)
	}
	if u, ok := WellKnownURL(f, source); ok {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return "", fmt.Errorf("well-known operator %q: %q is not an http(s) URL", source, u)
		}
		return fetchOperator(f, u)
	}
	return "", fmt.Errorf("%q is not a URL, an existing file, or a well-known operator (define one with the environment variable nsc_%s_operator=<url>)", source, source)
}
