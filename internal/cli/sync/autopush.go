package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// NoPushEnv turns the automatic push off when set to a non-empty value other than "0".
const NoPushEnv = "SIGNET_NO_PUSH"

// AutoPush runs after a command saved an account JWT. The rule:
//   - SIGNET_NO_PUSH set (not "0"): nothing is pushed.
//   - Managed operator (its key is held elsewhere): the self-signed JWT is pushed to the
//     operator's account server and the signed copy pulled back into the store. A failure is an
//     error; the store keeps the local JWT and `signet push`/`signet pull` fix it later.
//   - Local operator with an account server URL and automatic push turned on (`signet edit
//     operator --auto-push`; signet dev turns it on for its operator): the JWT is pushed there.
//     A server that cannot be reached is a warning (nothing is running; push later); a server
//     that refuses the JWT is an error.
//   - Otherwise nothing happens, as with nsc: a local operator's edits stay local until
//     `signet push`.
func AutoPush(f *cmdutil.Factory, s *store.Store, account string) error {
	if v := f.Getenv(NoPushEnv); v != "" && v != "0" {
		return nil
	}
	if !s.Info.Managed && !s.AutoPush() {
		return nil
	}
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	if oc.AccountServerURL == "" {
		if s.Info.Managed {
			f.IO.Warn("managed operator %q has no account server URL: account %q was not pushed", s.Name(), account)
		}
		return nil
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := oc.AccountServerURL
	if ops.IsNATSURL(u) {
		return autoPushNATS(ctx, f, s, ks, account, u)
	}
	rep, err := ops.Push(ctx, s, ks, ops.PushRequest{Account: account, URL: u, HTTP: f.HTTP})
	if err != nil {
		return err
	}
	res := rep.HTTP[0]
	if err := res.Err; err != nil {
		var he *remote.HTTPError
		if !s.Info.Managed && !errors.As(err, &he) && unreachable(err) {
			if cmdutil.Refused(err) {
				f.IO.Warn("account %q was saved but not pushed: %s; then run `signet push -a %s` (%s=1 stops these tries)", account, cmdutil.RefusedHint(u), shellquote.Quote(account), NoPushEnv)
				return nil
			}
			f.IO.Warn("account server %s is not reachable; account %q was saved but not pushed (run `signet push -a %s` later, or set %s=1 to stop trying)", u, account, shellquote.Quote(account), NoPushEnv)
			return nil
		}
		return fmt.Errorf("push account %q to %s: %w; the store keeps the local JWT: fix the problem and run `signet push -a %s`", account, u, cmdutil.WithRefusedHint(err, u), shellquote.Quote(account))
	}
	if res.Pending {
		f.IO.OK("pushed account %q to %s: accepted, pending approval (%d)", account, u, res.Status)
		return nil
	}
	f.IO.OK("pushed account %q to %s", account, u)
	if !s.Info.Managed {
		return nil
	}
	signed, err := remote.PullHTTP(ctx, f.HTTP, u, res.Account)
	if err != nil {
		return fmt.Errorf("pull the signed account %q from %s: %w; run `signet pull -a %s` later", account, u, cmdutil.WithRefusedHint(err, u), shellquote.Quote(account))
	}
	if _, _, err := ops.SaveTrusted(s, signed, true); err != nil {
		return fmt.Errorf("pull the signed account %q: %w", account, err)
	}
	f.IO.OK("pulled account %q signed by the operator from %s", account, u)
	return nil
}

// autoPushNATS pushes the account to the nats-servers at u through ops.Push; servers that
// cannot be reached are a warning.
func autoPushNATS(ctx context.Context, f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, account, u string) error {
	rep, err := ops.Push(ctx, s, ks, ops.PushRequest{Account: account, URL: u, Dial: ops.ResolverDial{Timeout: 3 * time.Second}})
	var ce *ops.ConnectError
	switch {
	case errors.As(err, &ce) && ce.Login:
		f.IO.Warn("account %q was saved but not pushed to %s: %v", account, u, err)
		return nil
	case errors.As(err, &ce) && cmdutil.Refused(err):
		f.IO.Warn("account %q was saved but not pushed: %s; then run `signet push -a %s`", account, cmdutil.RefusedHint(u), shellquote.Quote(account))
		return nil
	case errors.As(err, &ce):
		f.IO.Warn("%s is not reachable; account %q was saved but not pushed (run `signet push -a %s` later)", u, account, shellquote.Quote(account))
		return nil
	case err != nil:
		return fmt.Errorf("push account %q to %s: %w", account, u, err)
	case rep.Failed:
		return fmt.Errorf("push account %q to %s: not every server accepted it: %+v", account, u, *rep.NATS)
	}
	f.IO.OK("pushed account %q to %s", account, u)
	return nil
}

// unreachable reports whether err means nothing listens at the server (as opposed to a refusal).
func unreachable(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ue) && ue.Timeout()) || strings.Contains(err.Error(), "connection refused")
}
