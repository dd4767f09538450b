package kv

import (
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// RollbackOptions are the inputs of `signet kv rollback`.
type RollbackOptions struct {
	*Options
	Account    string
	Revision   uint64
	SigningKey string
}

func newCmdRollback(f *cmdutil.Factory, kv *Options, runF func(*cmdutil.Factory, *RollbackOptions) error) *cobra.Command {
	if runF == nil {
		runF = RunRollback
	}
	o := &RollbackOptions{Options: kv}
	cmd := &cobra.Command{
		Use:   "rollback ACCOUNT --revision N",
		Short: "Make an earlier revision of an account current again, re-issued by the operator",
		Long: `Make the claims of revision N of an account (see signet kv history) current again.

The old JWT itself cannot come back: its issue time is older than the current one's, and every
replica and nats-server refuse an older JWT. So its claims are re-issued with a fresh issue
time, signed by the operator's key or one of its signing keys from the signet keystore (-K picks
one), and written only if the account is still at the revision the rollback read: if another
write came in meanwhile, nothing is written. Running replicas announce the change to their NATS
servers.`,
		Example: `  signet kv history -c serve.conf A
  signet kv rollback -c serve.conf A --revision 12`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("revision") {
				return errors.New("--revision is required: pick one from `signet kv history`")
			}
			o.Account = args[0]
			return runF(f, o)
		},
	}
	cmd.Flags().Uint64Var(&o.Revision, "revision", 0, "the bucket revision to make current again (see signet kv history)")
	cmd.Flags().StringVarP(&o.SigningKey, "private-key", "K", "", "operator key to sign with: a signing key's public key, or a seed file")
	return cmd
}

// RunRollback re-issues revision o.Revision of o.Account and stores it.
func RunRollback(f *cmdutil.Factory, o *RollbackOptions) error {
	s, pub, err := openAccount(f, o.Options, o.Account)
	if err != nil {
		return err
	}
	defer shutdown(s)
	sign, err := operatorSigner(f, o, s.Operator().Subject)
	if err != nil {
		return err
	}
	res, err := s.Rollback(pub, o.Revision, sign)
	if err != nil {
		return err
	}
	if res.AlreadyCurrent {
		f.IO.Info("revision %d of account %q (%s) is the current one: nothing to do", res.Target, res.Name, pub)
		return nil
	}
	f.IO.OK("account %q (%s): the claims of revision %d are current again, re-issued at %s as revision %d (was %d)",
		res.Name, pub, res.Target, cmdutil.FormatUnix(res.IssuedAt), res.Revision, res.Replaced)
	return nil
}

// operatorSigner signs with a key of the operator the bucket trusts, from its signet store and
// keystore. It fails before anything is written when no such key is at hand.
func operatorSigner(f *cmdutil.Factory, o *RollbackOptions, opPub string) (accountserver.SignFunc, error) {
	st, err := operatorStore(f, o.Options, opPub)
	if err != nil {
		return nil, fmt.Errorf("rollback re-issues the account with the operator's key: %w", err)
	}
	oc, _, err := st.Operator()
	if err != nil {
		return nil, fmt.Errorf("load operator %q: %w", st.Name(), err)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return nil, err
	}
	iss := ops.OperatorIssuer(st.Name(), oc)
	return func(ac *jwt.AccountClaims) (string, error) {
		spec := o.SigningKey
		if spec == "" {
			kp, err := ops.Signer(ks, iss, "", ac.Issuer)
			if err != nil {
				return "", fmt.Errorf("%w (a rollback is signed by the operator: run it where the operator's keys are, or pass -K)", err)
			}
			// A key of the keystore, passed on by its public key (SignAccount takes a
			// managed operator's accounts to sign themselves when no key is named).
			if spec, err = kp.PublicKey(); err != nil {
				return "", err
			}
		}
		return ops.SignAccount(st, ks, oc, ac, nil, spec)
	}, nil
}

// operatorStore finds the signet store of the operator whose key is opPub: the one --operator
// names, else any of the stores.
func operatorStore(f *cmdutil.Factory, o *Options, opPub string) (*store.Store, error) {
	if o.Operator != "" {
		if st, err := os.Stat(o.Operator); err != nil || st.IsDir() {
			s, err := f.Operator(o.Operator)
			if err != nil {
				return nil, err
			}
			return s, sameOperator(s, opPub)
		}
	}
	stores, err := f.Stores()
	if err != nil {
		return nil, err
	}
	names, err := stores.Operators()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		s, err := stores.Open(n)
		if err == nil && sameOperator(s, opPub) == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no operator store in %s holds operator %s (the one the bucket's configuration trusts)", stores.Dir, opPub)
}

func sameOperator(s *store.Store, opPub string) error {
	oc, _, err := s.Operator()
	if err != nil {
		return fmt.Errorf("load operator %q: %w", s.Name(), err)
	}
	if oc.Subject != opPub {
		return fmt.Errorf("operator %q of the signet store is %s, not %s (the one the bucket's configuration trusts)", s.Name(), oc.Subject, opPub)
	}
	return nil
}
