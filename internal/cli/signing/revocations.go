package signing

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// revokeUsers runs op (ops.RevokeUser or ops.ClearUserRevocation) on the account req names (or
// the current one), prints a line per revocation and pushes the account when the operator
// wants it.
func revokeUsers(f *cmdutil.Factory, op func(*store.Store, keystore.KeyStore, ops.RevokeUserRequest) (*ops.RevokeUserResult, error), req ops.RevokeUserRequest, line func(ops.UserRevocation) string) error {
	t, err := f.Target(req.Account)
	if err != nil {
		return err
	}
	req.Account = t.Account
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", req.Signer)
	res, err := op(t.Store, t.KeyStore, req)
	if err != nil {
		return err
	}
	warnSigner()
	for _, r := range res.Revocations {
		f.IO.OK("%s", line(r))
	}
	return f.AccountSaved(t.Store, res.Name)
}

// newCmdRevocations builds `revocations` and its sub-commands.
func newCmdRevocations(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revocations",
		Short: "Revoke users and activations of an account (a revocation covers JWTs issued before its time)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(
		newCmdRevokeUser(f, true), newCmdRevokeUser(f, false), newCmdListUserRevocations(f),
		newCmdRevokeActivation(f, true), newCmdRevokeActivation(f, false), newCmdListActivationRevocations(f),
	)
	return cmd
}

// UserRevocationOptions are the inputs of `revocations add-user` and `delete-user`.
type UserRevocationOptions struct {
	Account string
	Names   []string // -n: user names (or public keys) in the store
	Keys    []string // -u: user public keys, or '*' for every user
	At      string   // --at: revoke JWTs issued at or before this time (add only)
	Signer  string
}

func newCmdRevokeUser(f *cmdutil.Factory, add bool) *cobra.Command {
	o := &UserRevocationOptions{}
	use, alias, short := "add-user", "add_user", "Revoke a user's JWTs issued at or before a time (default now)"
	if !add {
		use, alias, short = "delete-user", "delete_user", "Remove a user revocation"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: []string{alias},
		Short:   short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if add {
				return RunAddUserRevocation(f, o)
			}
			return RunDeleteUserRevocation(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.StringSliceVarP(&o.Names, "name", "n", nil, "user name (or public key) in the store")
	fs.StringSliceVarP(&o.Keys, "user-public-key", "u", nil, "user public key, or '*' for every user of the account")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to re-sign the account with: public key, seed, or seed file")
	if add {
		fs.StringVar(&o.At, "at", "", "revoke JWTs issued at or before this time: unix seconds, yyyy-mm-dd, RFC 3339, or 0 for now (default now)")
	}
	cmdutil.Subject(cmd, cmdutil.KindUser, "name")
	return cmd
}

// RunAddUserRevocation revokes users.
func RunAddUserRevocation(f *cmdutil.Factory, o *UserRevocationOptions) error {
	at, err := parseAt(o.At, f.Now())
	if err != nil {
		return err
	}
	return revokeUsers(f, ops.RevokeUser, ops.RevokeUserRequest{Account: o.Account, Users: o.Names, Keys: o.Keys, At: at, Signer: o.Signer},
		func(r ops.UserRevocation) string {
			return fmt.Sprintf("revoked user %q (JWTs issued at or before %s)", r.PublicKey, cmdutil.FormatUnix(r.At))
		})
}

// RunDeleteUserRevocation removes user revocations.
func RunDeleteUserRevocation(f *cmdutil.Factory, o *UserRevocationOptions) error {
	return revokeUsers(f, ops.ClearUserRevocation, ops.RevokeUserRequest{Account: o.Account, Users: o.Names, Keys: o.Keys, Signer: o.Signer},
		func(r ops.UserRevocation) string { return fmt.Sprintf("deleted revocation of user %q", r.PublicKey) })
}

// revocationRow is one revocation as listed.
type revocationRow struct {
	PublicKey string `json:"public_key"`
	Name      string `json:"name,omitempty"`
	RevokedAt int64  `json:"revoked_at"`
	Time      string `json:"time"`
}

func revocationRows(rl jwt.RevocationList, names map[string]string) []revocationRow {
	rows := make([]revocationRow, 0, len(rl))
	for k, ts := range rl {
		name := names[k]
		if k == jwt.All {
			name = "(all)"
		}
		rows = append(rows, revocationRow{PublicKey: k, Name: name, RevokedAt: ts, Time: cmdutil.FormatUnix(ts)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].PublicKey < rows[j].PublicKey })
	return rows
}

func newCmdListUserRevocations(f *cmdutil.Factory) *cobra.Command {
	var account string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list-users",
		Aliases: []string{"list_users"},
		Short:   "List the user revocations of an account",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.Operator("")
			if err != nil {
				return err
			}
			name, err := f.Account(s, account)
			if err != nil {
				return err
			}
			ac, _, err := s.Account(name)
			if err != nil {
				return err
			}
			users, err := s.ListUsers(name)
			if err != nil {
				return err
			}
			names := map[string]string{}
			for _, u := range users {
				names[u.PublicKey] = u.Name
			}
			rows := revocationRows(ac.Revocations, names)
			if asJSON {
				return cmdutil.PrintJSON(f.IO.Out, rows)
			}
			if len(rows) == 0 {
				f.IO.Info("account %q has no revoked users", name) // stdout stays empty: no rows
				return nil
			}
			t := cmdutil.NewTable(fmt.Sprintf("Revoked Users for %s", name))
			t.AppendHeader([]any{"Public Key", "User", "Revoked Before"})
			for _, r := range rows {
				t.AppendRow([]any{r.PublicKey, r.Name, r.Time})
			}
			cmdutil.RenderTable(f.IO.Out, t)
			return nil
		},
	}
	cmd.Flags().StringVarP(&account, "account", "a", "", "account name or public key")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// ActivationRevocationOptions are the inputs of `revocations add-activation` and
// `delete-activation`.
type ActivationRevocationOptions struct {
	Account string
	Target  string // -t: importing account (public key or name in the store), or '*'
	Subject string // -s: the export's subject
	Service bool
	At      string
	Signer  string
}

func newCmdRevokeActivation(f *cmdutil.Factory, add bool) *cobra.Command {
	o := &ActivationRevocationOptions{}
	use, alias, short := "add-activation", "add_activation", "Revoke an account's activation of an export, issued at or before a time (default now)"
	if !add {
		use, alias, short = "delete-activation", "delete_activation", "Remove an activation revocation"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: []string{alias},
		Short:   short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if add {
				return RunAddActivationRevocation(f, o)
			}
			return RunDeleteActivationRevocation(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "exporting account name or public key")
	fs.StringVarP(&o.Target, "target-account", "t", "", "importing account public key (or name in this store), or '*' for every account")
	fs.StringVarP(&o.Subject, "subject", "s", "", "subject of the export (may be omitted when the account has one export of the kind)")
	fs.BoolVar(&o.Service, "service", false, "the export is a service (default: a stream)")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to re-sign the account with: public key, seed, or seed file")
	if add {
		fs.StringVar(&o.At, "at", "", "revoke activations issued at or before this time: unix seconds, yyyy-mm-dd, RFC 3339, or 0 for now (default now)")
	}
	return cmd
}

// RunAddActivationRevocation revokes an account's activation of an export through
// ops.RevokeActivation.
func RunAddActivationRevocation(f *cmdutil.Factory, o *ActivationRevocationOptions) error {
	at, err := parseAt(o.At, f.Now())
	if err != nil {
		return err
	}
	return o.run(f, func(s *store.Store, ks keystore.KeyStore, req ops.ActivationRevocationRequest) (*ops.AccountChangeResult, error) {
		req.At = at
		return ops.RevokeActivation(s, ks, req)
	})
}

// RunDeleteActivationRevocation removes an activation revocation through
// ops.ClearActivationRevocation.
func RunDeleteActivationRevocation(f *cmdutil.Factory, o *ActivationRevocationOptions) error {
	return o.run(f, ops.ClearActivationRevocation)
}

func (o *ActivationRevocationOptions) run(f *cmdutil.Factory, op func(*store.Store, keystore.KeyStore, ops.ActivationRevocationRequest) (*ops.AccountChangeResult, error)) error {
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", o.Signer)
	res, err := op(t.Store, t.KeyStore, ops.ActivationRevocationRequest{
		Account: t.Account, Signer: o.Signer, Target: o.Target, Subject: o.Subject, Service: o.Service,
	})
	if err != nil {
		return err
	}
	warnSigner()
	return f.AccountChanged(t.Store, res.Name, res.Warnings, res.Changes)
}

func newCmdListActivationRevocations(f *cmdutil.Factory) *cobra.Command {
	var account, subject string
	var service, asJSON bool
	cmd := &cobra.Command{
		Use:     "list-activations",
		Aliases: []string{"list_activations"},
		Short:   "List the activation revocations of an account's exports",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.Operator("")
			if err != nil {
				return err
			}
			name, err := f.Account(s, account)
			if err != nil {
				return err
			}
			ac, _, err := s.Account(name)
			if err != nil {
				return err
			}
			exports := ac.Exports
			if subject != "" || service {
				e, err := ops.RevocationExport(ac, subject, service)
				if err != nil {
					return err
				}
				exports = jwt.Exports{e}
			}
			names := accountNames(s)
			type exportRows struct {
				Subject     string          `json:"subject"`
				Type        string          `json:"type"`
				Revocations []revocationRow `json:"revocations"`
			}
			var all []exportRows
			for _, e := range exports {
				all = append(all, exportRows{string(e.Subject), e.Type.String(), revocationRows(e.Revocations, names)})
			}
			if asJSON {
				return cmdutil.PrintJSON(f.IO.Out, all)
			}
			found := false
			for _, x := range all {
				if len(x.Revocations) == 0 {
					continue
				}
				found = true
				t := cmdutil.NewTable(fmt.Sprintf("Revoked Activations of %s %q", x.Type, x.Subject))
				t.AppendHeader([]any{"Account Public Key", "Account", "Revoked Before"})
				for _, r := range x.Revocations {
					t.AppendRow([]any{r.PublicKey, r.Name, r.Time})
				}
				cmdutil.RenderTable(f.IO.Out, t)
			}
			if !found {
				f.IO.Info("account %q has no revoked activations", name)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&account, "account", "a", "", "account name or public key")
	fs.StringVarP(&subject, "subject", "s", "", "only this export")
	fs.BoolVar(&service, "service", false, "the export is a service")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// accountNames maps the public keys of the store's accounts to their names.
func accountNames(s *store.Store) map[string]string {
	out := map[string]string{}
	names, err := s.Accounts()
	if err != nil {
		return out
	}
	for _, n := range names {
		if tok, err := s.AccountJWT(n); err == nil {
			if sub, err := store.PeekSubject(tok); err == nil {
				out[sub] = n
			}
		}
	}
	return out
}

var unixRE = regexp.MustCompile(`^[0-9]+$`)

// parseAt reads --at: empty or 0 is now; a plain number is unix seconds; otherwise a date
// (yyyy-mm-dd, RFC 3339) or a duration from now as --start takes it.
func parseAt(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return now, nil
	}
	if unixRE.MatchString(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %q: %w", v, err)
		}
		return time.Unix(n, 0), nil
	}
	ts, err := authz.ParseStart(v, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at: %w", err)
	}
	return time.Unix(ts, 0), nil
}
