// Package serve holds `signet serve`: the account server (package accountserver) as a command.
// It builds an accountserver.Config from a configuration file and flags, runs the server until
// the context ends (SIGINT/SIGTERM), and reloads the configuration on SIGHUP.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/redact"
	"github.com/signet-dev/signet/store"
)

// DefaultHTTP is where signet serve listens without a configuration.
const DefaultHTTP = "127.0.0.1:9090"

// Options are the inputs of `signet serve`.
type Options struct {
	ConfigFile string
	Operator   string
	Dir        string
	NATS       string
	Creds      string
	HTTP       string
	Shard      bool
	ReadOnly   bool
	SigningKey string
	Debug      bool
	Trace      bool
	// ImportDir is a directory store loaded into the configured store before serving.
	ImportDir string

	// changed reports whether a flag was given on the command line (flags override the file).
	changed func(name string) bool
	// Started, when set, is called once the server runs (tests and embedders use it to find
	// the address).
	Started func(*accountserver.Server)
}

// NewCmdServe builds `signet serve`.
func NewCmdServe(f *cmdutil.Factory) *cobra.Command {
	return newCmdServe(f, nil)
}

// newCmdServe takes the run function so tests can check flag parsing without serving.
func newCmdServe(f *cmdutil.Factory, runF func(context.Context, *cmdutil.Factory, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the account server: vend account JWTs over HTTP and keep NATS servers up to date",
		Long: `Run the account server, compatible with nats-account-server's /jwt/v1 API and a peer of
nats-server's NATS-based resolver.

Configure it with a file in the NATS configuration format (-c, the keys of nats-account-server),
with flags, or both: flags override the file. SIGHUP reloads the configuration (and re-reads a
read-only store): account JWTs whose issuer the reloaded operator does not trust (another
operator, a signing key it dropped) stay in the store but are served no more, until a reload
trusts their issuer again; they still count as their account's latest, so an older JWT does
not replace them. SIGINT/SIGTERM stop it cleanly.`,
		Example: `  signet serve --operator MyOperator --dir ./jwts --nats nats://localhost:4222 --creds sys.creds
  signet serve -c server.conf --http 0.0.0.0:9090
  signet serve -c nas.conf -hp 0.0.0.0:9090 -dir ./jwts -DV     (nats-account-server's command line)`,
		// nats-account-server's command line (Go's flag package: -dir, -hp, -ro, ...) is
		// rewritten to signet's before the flags are parsed, so the command parses them itself.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.InheritedFlags() // merges the root's persistent flags into cmd.Flags()
			args, err := RewriteLegacyArgs(args, cmd.Flags())
			if err != nil {
				return err
			}
			if err := cmd.Flags().Parse(args); err != nil {
				return err
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			if rest := cmd.Flags().Args(); len(rest) > 0 {
				return fmt.Errorf("signet serve takes no arguments, got %q", rest[0])
			}
			o.changed = cmd.Flags().Changed
			return runF(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.ConfigFile, "config", "c", "", "configuration file (NATS format, nats-account-server keys; default $NATS_ACCOUNT_SERVER_CONFIG)")
	fl.StringVar(&o.Operator, "operator", "", "operator JWT file, or the name of an operator in the signet store (default: the current operator)")
	fl.StringVar(&o.Dir, "dir", "", "store directory (default: in memory)")
	fl.StringVar(&o.NATS, "nats", "", "NATS server URLs for notifications, comma separated")
	fl.StringVar(&o.Creds, "creds", "", "system account user creds for the NATS connection")
	fl.StringVar(&o.HTTP, "http", DefaultHTTP, "HTTP listen address host:port")
	fl.BoolVar(&o.Shard, "shard", false, "shard the store directory (<last two key characters>/<KEY>.jwt)")
	fl.BoolVar(&o.ReadOnly, "readonly", false, "serve a store directory that something else writes, picking up changes")
	fl.StringVar(&o.SigningKey, "signing-key", "", "operator signing key seed file: sign self-signed accounts (managed operator mode)")
	fl.StringVar(&o.ImportDir, "import-dir", "", "before serving, load the account JWTs of this directory store (nats-account-server's or signet's, flat or sharded) into the configured store; untrusted and older JWTs are skipped with a warning")
	fl.BoolVarP(&o.Debug, "debug", "D", false, "debug logging")
	fl.BoolVarP(&o.Trace, "trace", "V", false, "trace (verbose) logging; -DV turns on both, as in nats-account-server")
	return cmd
}

// legacyFlag maps a flag of nats-account-server's command line to signet serve's: its name
// (the same unless renamed), or an error for what signet serve does not do.
func legacyFlag(name string) (string, error) {
	switch name {
	case "hp":
		return "http", nil
	case "ro":
		return "readonly", nil
	case "nsc":
		return "", errors.New("-nsc (serving an nsc operator folder) is not supported: serve the operator of the store with --operator NAME and push its accounts with `signet push`, or serve a JWT folder with --dir")
	case "primary":
		return "", errors.New("-primary (replicating another account server) is not supported: point every nats-server at one signet serve, or use nats-server's full resolver")
	}
	return name, nil
}

// RewriteLegacyArgs turns nats-account-server's single-dash flags (Go's flag package: -dir X,
// -hp=X, -ro) into signet serve's (--dir X, --http=X, --readonly), leaving shorthands (-c, -D,
// -V, -DV), values and everything after "--" as they are. fs holds the command's flags.
func RewriteLegacyArgs(args []string, fs *pflag.FlagSet) ([]string, error) {
	out := make([]string, 0, len(args))
	value := false // the previous flag takes this argument as its value
	for i, a := range args {
		switch {
		case value:
			value = false
			out = append(out, a)
			continue
		case a == "--":
			return append(out, args[i:]...), nil
		case !strings.HasPrefix(a, "-") || a == "-":
			out = append(out, a)
			continue
		}
		long := strings.HasPrefix(a, "--")
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !long && len(name) > 1 {
			renamed, err := legacyFlag(name)
			if err != nil {
				return nil, err
			}
			if fs.Lookup(renamed) != nil {
				a = "--" + renamed + strings.TrimPrefix(a, "-"+name)
				name, long = renamed, true
			}
		}
		var fl *pflag.Flag
		if long {
			fl = fs.Lookup(name)
		} else if len(name) == 1 {
			fl = fs.ShorthandLookup(name)
		}
		value = fl != nil && !hasValue && fl.NoOptDefVal == ""
		out = append(out, a)
	}
	return out, nil
}

func (o *Options) flagChanged(name string) bool {
	return o.changed != nil && o.changed(name)
}

// configFile is -c, else $NATS_ACCOUNT_SERVER_CONFIG as nats-account-server read it.
func (o *Options) configFile(f *cmdutil.Factory) string {
	if o.ConfigFile == "" && f.Getenv != nil {
		return f.Getenv("NATS_ACCOUNT_SERVER_CONFIG")
	}
	return o.ConfigFile
}

// Config builds the server configuration: the file (if any), then the flags given.
func Config(f *cmdutil.Factory, o *Options) (accountserver.Config, error) {
	var cfg accountserver.Config
	file := o.configFile(f)
	if file != "" {
		c, err := accountserver.LoadConfig(file)
		if err != nil {
			return cfg, err
		}
		cfg = c
	} else {
		cfg.HTTP.Port = accountserver.DefaultHTTPPort
	}
	if file == "" || o.flagChanged("http") {
		host, port, err := splitHostPort(o.HTTP)
		if err != nil {
			return cfg, err
		}
		cfg.HTTP.Host, cfg.HTTP.Port = host, port
	}
	if o.Dir != "" {
		cfg.Store.Dir = o.Dir
	}
	if o.flagChanged("shard") || o.Shard {
		cfg.Store.Shard = o.Shard
	}
	if o.flagChanged("readonly") || o.ReadOnly {
		cfg.Store.ReadOnly = o.ReadOnly
	}
	if o.NATS != "" {
		cfg.NATS.Servers = splitList(o.NATS)
	}
	if o.Creds != "" {
		cfg.NATS.UserCredentials = o.Creds
	}
	if o.SigningKey != "" {
		cfg.Signing.Key = o.SigningKey
	}
	if o.Debug {
		cfg.Logging.Debug = true
	}
	if o.Trace {
		cfg.Logging.Trace = true
	}
	if o.Operator != "" {
		if err := operatorFromFlag(f, o.Operator, &cfg); err != nil {
			return cfg, err
		}
	}
	if cfg.OperatorJWT == "" && cfg.OperatorJWTPath == "" {
		// Neither flag nor file names one: the current operator, as the other commands (and
		// signet dev) take it.
		s, err := f.Operator("")
		if err != nil {
			return cfg, fmt.Errorf("no operator: pass --operator <jwt file | operator name> or set operatorjwtpath in the configuration (%w)", err)
		}
		if err := storeOperator(s, &cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, cfg.Check()
}

// operatorFromFlag takes a JWT file if one exists at v, else the operator named v in the signet
// store.
func operatorFromFlag(f *cmdutil.Factory, v string, cfg *accountserver.Config) error {
	if st, err := os.Stat(v); err == nil && !st.IsDir() {
		cfg.OperatorJWTPath, cfg.OperatorJWT = v, ""
		return nil
	}
	s, err := f.Operator(v)
	if err != nil {
		return fmt.Errorf("--operator %q is neither a file nor an operator in the store: %w", v, err)
	}
	return storeOperator(s, cfg)
}

// storeOperator serves the operator of store s, and its system account if stored.
func storeOperator(s *store.Store, cfg *accountserver.Config) error {
	op, tok, err := s.Operator()
	if err != nil {
		return fmt.Errorf("load operator %q: %w", s.Name(), err)
	}
	cfg.OperatorJWT, cfg.OperatorJWTPath = tok, ""
	if cfg.SystemAccountJWTPath == "" && op.SystemAccount != "" {
		if name, err := s.FindAccount(op.SystemAccount); err == nil {
			cfg.SystemAccountJWTPath = s.AccountPath(name)
		}
	}
	return nil
}

func splitHostPort(v string) (string, int, error) {
	host, p, err := net.SplitHostPort(v)
	if err != nil {
		return "", 0, fmt.Errorf("--http %q: want host:port: %w", v, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("--http %q: bad port", v)
	}
	return host, port, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// importDir loads dir into the server's store and logs what it did; untrusted and stale JWTs
// are warnings, not errors.
func importDir(s *accountserver.Server, dir string, logger *slog.Logger) error {
	rep, err := s.ImportDir(dir)
	for _, w := range rep.Warnings {
		logger.Warn("import: skipped a file", "err", w)
	}
	for _, r := range rep.Refused {
		logger.Warn("import: refused an account jwt", "account", r.Account, "file", r.Path, "err", r.Reason)
	}
	for _, r := range rep.Stale {
		logger.Warn("import: kept the stored account jwt", "account", r.Account, "file", r.Path, "reason", r.Reason)
	}
	if err != nil {
		return fmt.Errorf("--import-dir: %w", err)
	}
	logger.Info("imported directory store", "dir", dir, "layout", rep.Layout, "imported", len(rep.Imported),
		"unchanged", len(rep.Unchanged), "stale", len(rep.Stale), "refused", len(rep.Refused))
	return nil
}

// Run starts the server and serves until ctx ends; SIGHUP reloads.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	cfg, err := Config(f, o)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.Logging.Debug || cfg.Logging.Trace {
		level = slog.LevelDebug
	}
	logger := redact.Logger(slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level})))
	if file := o.configFile(f); file != "" {
		logger.Info("loaded configuration", "file", file)
	}
	s, err := accountserver.New(cfg, logger)
	if err != nil {
		return err
	}
	if o.ImportDir != "" {
		if err := importDir(s, o.ImportDir, logger); err != nil {
			s.Shutdown(context.Background())
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := s.Start(); err != nil {
		return err
	}
	if o.Started != nil {
		o.Started(s)
	}
	for {
		select {
		case <-hup:
			logger.Info("SIGHUP: reloading configuration")
			next, err := Config(f, o)
			if err == nil {
				err = s.Reload(next)
			}
			if err != nil {
				logger.Error("reload failed; keeping the running configuration", "err", err)
			}
		case <-ctx.Done():
			logger.Info("stopping")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return s.Shutdown(sctx)
		}
	}
}
