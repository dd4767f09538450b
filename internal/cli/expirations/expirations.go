// Package expirations holds `signet expirations`: a report of when the current operator, its
// accounts, their users and the users' creds files expire, as nsc's `expirations` prints it.
package expirations

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// Options are the inputs of `expirations`.
type Options struct {
	Within string
	JSON   bool
	Skip   bool
}

// Entry is one line of the report; the JSON field names are nsc's.
type Entry struct {
	Resource       string `json:"resource"`
	ID             string `json:"id"`
	When           string `json:"when"`
	Expiry         int64  `json:"expiry"`
	ExpirationDate string `json:"expiration_date"`
	ExpiresSoon    bool   `json:"expires_soon"`
	Expired        bool   `json:"expired"`
}

// Report is what --json prints.
type Report struct {
	ExpirationThreshold string   `json:"expiration_threshold"`
	Report              []*Entry `json:"report"`
}

// NewCmdExpirations builds `expirations`.
func NewCmdExpirations(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "expirations",
		Short: "Report which of the operator's JWTs and creds files have expired or expire soon",
		Long: `Report the expiry of the current operator, each of its accounts, their users, and the
users' creds files in the keystore. An entry expires soon when it expires before the --within
threshold (already expired ones included).`,
		Example: `  signet expirations --within 1w --skip
  signet expirations --json --within 3M`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Within, "within", "e", "1M", "threshold: yyyy-mm-dd, or a time from now like 30m, 12h, 7d, 2w, 1M, 1y (0: none)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.Skip, "skip", false, "leave out entries that neither expired nor expire soon")
	return cmd
}

// Run prints the report.
func Run(f *cmdutil.Factory, o *Options) error {
	now := f.Now()
	threshold, err := authz.ParseExpiry(o.Within, now)
	if err != nil {
		return fmt.Errorf("--within: %w", err)
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	entries, err := Collect(s, ks, now, threshold)
	if err != nil {
		return err
	}
	if o.Skip {
		var kept []*Entry
		for _, e := range entries {
			if e.Expired || e.ExpiresSoon {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	if o.JSON {
		return cmdutil.PrintJSON(f.IO.Out, Report{
			ExpirationThreshold: time.Unix(threshold, 0).Format(time.RFC3339),
			Report:              entries,
		})
	}
	title := "Expiration Report"
	if threshold != 0 {
		title = fmt.Sprintf("Expiration Report (%s)", cmdutil.RelativeDate(threshold, now))
	}
	t := cmdutil.NewTable(title)
	t.AppendHeader(table.Row{"Expired", "Resource", "Expiration"})
	for _, e := range entries {
		state := "No"
		switch {
		case e.Expired:
			state = "Yes"
		case e.ExpiresSoon:
			state = "Soon"
		}
		when := e.When
		if e.Expiry != 0 {
			when = fmt.Sprintf("%s - %s", e.ExpirationDate, e.When)
		}
		t.AppendRow(table.Row{state, e.Resource, when})
	}
	cmdutil.RenderTable(f.IO.Out, t)
	return nil
}

// Collect lists the operator, then each account followed by each of its users (and the user's
// creds file, when the keystore has one), with their expiry relative to now and to threshold
// (unix seconds; 0 means no threshold).
func Collect(s *store.Store, ks keystore.KeyStore, now time.Time, threshold int64) ([]*Entry, error) {
	entry := func(resource, id string, expires int64) *Entry {
		e := &Entry{Resource: resource, ID: id, When: "Never", Expiry: expires}
		if expires != 0 {
			e.When = cmdutil.RelativeDate(expires, now)
			e.ExpirationDate = time.Unix(expires, 0).Format(time.RFC3339)
			e.Expired = now.Unix() > expires
			e.ExpiresSoon = threshold > expires
		}
		return e
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	out := []*Entry{entry(oc.Name, oc.Subject, oc.Expires)}
	accounts, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		ac, _, err := s.Account(a)
		if err != nil {
			return nil, fmt.Errorf("account %q: %w", a, err)
		}
		out = append(out, entry(oc.Name+"/"+ac.Name, ac.Subject, ac.Expires))
		users, err := s.UserNames(a)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			uc, _, err := s.User(a, u)
			if err != nil {
				return nil, fmt.Errorf("user %q of account %q: %w", u, a, err)
			}
			out = append(out, entry(oc.Name+"/"+ac.Name+"/"+uc.Name, uc.Subject, uc.Expires))
			p := ks.CredsPath(s.Name(), a, u)
			data, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read creds %s: %w", p, err)
			}
			token, err := jwt.ParseDecoratedJWT(data)
			if err != nil {
				return nil, fmt.Errorf("creds %s: %w", p, err)
			}
			cc, err := jwt.DecodeUserClaims(token)
			if err != nil {
				return nil, fmt.Errorf("creds %s: %w", p, err)
			}
			out = append(out, entry(p, cc.Subject, cc.Expires))
		}
	}
	return out, nil
}
