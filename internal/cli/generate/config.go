package generate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/store"
)

// ConfigOptions are the inputs of `generate config`.
type ConfigOptions struct {
	MemResolver       bool
	NatsResolver      bool
	NatsResolverCache bool
	SysAccount        string
	ConfigFile        string
	Force             bool
}

// NewCmdConfig builds `generate config`.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	o := &ConfigOptions{}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Generate a nats-server configuration trusting the current operator",
		Long: `Generate a nats-server configuration trusting the current operator.

--mem-resolver preloads every account of the operator (resolver: MEMORY); the server
must be restarted or reloaded to learn of changes. --nats-resolver makes the server a
full NATS-based resolver that stores accounts under ./jwt and accepts pushes;
--nats-resolver-cache makes it a caching one that looks accounts up from full resolvers.
Both preload only the system account.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunConfig(f, o) },
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.MemResolver, "mem-resolver", false, "configure the memory resolver with every account preloaded")
	fs.BoolVar(&o.NatsResolver, "nats-resolver", false, "configure the full NATS-based resolver")
	fs.BoolVar(&o.NatsResolverCache, "nats-resolver-cache", false, "configure the caching NATS-based resolver")
	fs.StringVar(&o.SysAccount, "sys-account", "", "system account name or public key (default: the operator's system account)")
	fs.StringVar(&o.ConfigFile, "config-file", "", "write the configuration to this file instead of stdout ('--' is stdout, as in nsc)")
	fs.BoolVarP(&o.Force, "force", "F", false, "overwrite an existing --config-file")
	compat.RefuseFlag(f, cmd, "nkey", "", "signet writes JWT configurations only (--mem-resolver, --nats-resolver or --nats-resolver-cache)")
	compat.RefuseValueFlag(f, cmd, "dir", "", "write the --mem-resolver configuration into one file with --config-file FILE")
	return cmd
}

// RunConfig builds the configuration and prints or writes it.
func RunConfig(f *cmdutil.Factory, o *ConfigOptions) error {
	n := 0
	for _, b := range []bool{o.MemResolver, o.NatsResolver, o.NatsResolverCache} {
		if b {
			n++
		}
	}
	if n != 1 {
		return errors.New("choose exactly one of --mem-resolver, --nats-resolver or --nats-resolver-cache")
	}
	var path string
	if o.ConfigFile != "" && o.ConfigFile != "--" { // nsc's "--" is stdout
		p, err := outputPath(f, o.ConfigFile)
		if err != nil {
			return err
		}
		path = p
		if _, err := os.Stat(path); err == nil && !o.Force {
			return fmt.Errorf("%q exists: pass --force to overwrite it", path)
		}
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	oc, opJWT, err := s.Operator()
	if err != nil {
		return err
	}
	sysName, sysPub, sysJWT, err := systemAccount(s, oc, o.SysAccount)
	if err != nil {
		return err
	}
	var text string
	if o.MemResolver {
		text, err = memResolverConfig(s, opJWT, sysName, sysPub)
		if err != nil {
			return err
		}
	} else {
		if sysPub == "" {
			return fmt.Errorf("operator %q has no system account, which a NATS-based resolver needs: set one with `signet edit operator --system-account NAME` or pass --sys-account", s.Name())
		}
		typ := "full"
		if o.NatsResolverCache {
			typ = "cache"
		}
		text = natsResolverConfig(s.Name(), opJWT, sysName, sysPub, sysJWT, typ)
	}
	if path == "" {
		_, err := fmt.Fprint(f.IO.Out, text)
		return err
	}
	if err := store.WriteFileAtomic(path, []byte(text), 0o600, 0o700); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	f.IO.OK("wrote server configuration to %q", path)
	return nil
}

// systemAccount finds the system account: the flag (name or public key) or the operator's. An
// operator without one gives empty results, which only the NATS resolvers refuse.
func systemAccount(s *store.Store, oc *jwt.OperatorClaims, flag string) (name, pub, token string, err error) {
	ref := flag
	if ref == "" {
		if oc.SystemAccount == "" {
			return "", "", "", nil
		}
		ref = oc.SystemAccount
	}
	name, err = s.FindAccount(ref)
	if err != nil {
		if flag == "" {
			return "", "", "", fmt.Errorf("the operator's system account %s is not in the store: %w; pass --sys-account", ref, err)
		}
		return "", "", "", fmt.Errorf("--sys-account: %w", err)
	}
	ac, token, err := s.Account(name)
	if err != nil {
		return "", "", "", err
	}
	return name, ac.Subject, token, nil
}

func memResolverConfig(s *store.Store, opJWT, sysName, sysPub string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "// Operator %q\noperator: %s\n\n", s.Name(), opJWT)
	if sysPub != "" {
		fmt.Fprintf(&b, "// System Account %q\nsystem_account: %s\n\n", sysName, sysPub)
	}
	b.WriteString("resolver: MEMORY\n\nresolver_preload: {\n")
	names, err := s.Accounts()
	if err != nil {
		return "", err
	}
	type entry struct{ name, pub, token string }
	entries := make([]entry, 0, len(names))
	for _, n := range names {
		ac, token, err := s.Account(n)
		if err != nil {
			return "", err
		}
		entries = append(entries, entry{n, ac.Subject, token})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, e := range entries {
		fmt.Fprintf(&b, "  // Account %q\n  %s: %s\n\n", e.name, e.pub, e.token)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

func natsResolverConfig(opName, opJWT, sysName, sysPub, sysJWT, typ string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Operator named %s\noperator: %s\n", opName, opJWT)
	fmt.Fprintf(&b, "# System Account named %s\nsystem_account: %s\n\n", sysName, sysPub)
	b.WriteString("# configuration of the nats based resolver\nresolver {\n")
	fmt.Fprintf(&b, "    type: %s\n", typ)
	b.WriteString("    # Directory in which the account jwt will be stored\n    dir: './jwt'\n")
	if typ == "full" {
		b.WriteString(`    # In order to support jwt deletion, set to true
    # If the resolver type is full delete will rename the jwt.
    # This is to allow manual restoration in case of inadvertent deletion.
    # To restore a jwt, remove the added suffix .delete and restart or send a reload signal.
    # To free up storage you must manually delete files with the suffix .delete.
    allow_delete: false
    # Interval at which a nats-server with a nats based account resolver will compare
    # it's state with one random nats based account resolver in the cluster and if needed,
    # exchange jwt and converge on the same set of jwt.
    interval: "2m"
`)
	} else {
		// nsc's value: an hour before a cached account JWT is looked up again.
		b.WriteString("    # ttl after which a cached account jwt is dropped and looked up again\n    ttl: \"1h\"\n")
	}
	b.WriteString(`    # Timeout for lookup requests in case an account does not exist locally.
    timeout: "1.9s"
}

# Preload the nats based resolver with the system account jwt.
# This is not necessary but avoids a bootstrapping system account.
# Only the system account is preloaded; push the other accounts with ` + "`signet push --all`" + `
# after pointing the operator's account server URL at the nats servers
# (signet edit operator --account-jwt-server-url nats://localhost:4222).
# Later changes to the system account take precedence over the system account jwt listed here.
resolver_preload: {
`)
	fmt.Fprintf(&b, "    %s: %s\n}\n", sysPub, sysJWT)
	return b.String()
}
