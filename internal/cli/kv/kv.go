// Package kv holds `signet kv`: the JetStream KV bucket that `signet serve` replicas share, from
// outside the servers: load a directory store into it (import), write it out as one (export),
// list an account's revisions (history) and bring one back (rollback). The bucket is opened
// as a serve configuration says (-c), with flags that override it; the work is done by package
// accountserver, through the same verification the servers apply.
package kv

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/redact"
)

// Options say which bucket to open; every kv command takes them.
type Options struct {
	ConfigFile string
	Servers    string
	Creds      string
	Bucket     string
	Operator   string
}

// NewCmdKV builds `signet kv` and its subcommands.
func NewCmdKV(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Import, export, list the history of and roll back the accounts of signet serve's JetStream KV bucket",
		Long: `Work on the JetStream KV bucket that signet serve replicas share (store { kv { } }):
load a directory store into it, write it out as one, list the revisions of an account, and make
an earlier revision current again.

The bucket is the one a serve configuration names (-c), or the flags' (they override the file).
Every JWT is verified against the operator the configuration trusts (operatorjwtpath, else
--operator, else the current operator of the signet store). Running replicas announce what these
commands write to their NATS servers.`,
		Args: cobra.NoArgs,
	}
	fl := cmd.PersistentFlags()
	fl.StringVarP(&o.ConfigFile, "config", "c", "", "signet serve configuration file naming the bucket (store { kv { } }) and the operator")
	fl.StringVar(&o.Servers, "servers", "", "JetStream server URLs of the bucket, comma separated (override the configuration's)")
	fl.StringVar(&o.Creds, "creds", "", "creds file of a user of the JetStream account holding the bucket")
	fl.StringVar(&o.Bucket, "bucket", "", "bucket name (default "+jwtstore.DefaultKVBucket+")")
	fl.StringVar(&o.Operator, "operator", "", "operator JWT file, or the name of an operator in the signet store (default: the configuration's, else the current operator)")
	cmd.AddCommand(
		newCmdImport(f, o, nil),
		newCmdExport(f, o, nil),
		newCmdHistory(f, o, nil),
		newCmdRollback(f, o, nil),
	)
	return cmd
}

// Config builds the account server configuration of the bucket: the file (if any) and the
// operator as signet serve takes them, then the flags.
func Config(f *cmdutil.Factory, o *Options) (accountserver.Config, error) {
	cfg, err := serve.Config(f, &serve.Options{ConfigFile: o.ConfigFile, Operator: o.Operator, HTTP: serve.DefaultHTTP})
	if err != nil {
		return cfg, err
	}
	if o.Servers != "" || o.Bucket != "" || o.Creds != "" {
		if cfg.Store.KV == nil {
			cfg.Store.KV = &accountserver.KVConfig{}
			cfg.Store.Dir = "" // the flags name a bucket; a directory of the file is not it
		}
	}
	if cfg.Store.KV == nil {
		if cfg.Store.Dir != "" {
			return cfg, fmt.Errorf("the configuration keeps its accounts in the directory %s, not in a kv bucket: name the bucket's servers with --servers (signet kv import %s loads that directory into it)", cfg.Store.Dir, cfg.Store.Dir)
		}
		return cfg, accountserver.ErrNoKVStore
	}
	if o.Servers != "" {
		var servers []string
		for _, s := range strings.Split(o.Servers, ",") {
			if s = strings.TrimSpace(s); s != "" {
				servers = append(servers, s)
			}
		}
		cfg.Store.KV.Servers = servers
	}
	if o.Creds != "" {
		cfg.Store.KV.UserCredentials = o.Creds
	}
	if o.Bucket != "" {
		cfg.Store.KV.Bucket = o.Bucket
	}
	return cfg, nil
}

// open opens the bucket; the caller shuts the server down.
func open(f *cmdutil.Factory, o *Options) (*accountserver.Server, error) {
	cfg, err := Config(f, o)
	if err != nil {
		return nil, err
	}
	// Warnings only (a JWT in the bucket that is not trusted): the rest is a server's chatter.
	logger := redact.Logger(slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return accountserver.OpenKVStore(cfg, logger)
}

// openAccount opens the bucket and resolves the account argument (see accountKey).
func openAccount(f *cmdutil.Factory, o *Options, arg string) (*accountserver.Server, string, error) {
	s, err := open(f, o)
	if err != nil {
		return nil, "", err
	}
	pub, err := accountKey(f, o, s, arg)
	if err != nil {
		shutdown(s)
		return nil, "", err
	}
	return s, pub, nil
}

// accountKey resolves an account argument: a public key as it is, else a name in the signet
// store of the operator the bucket trusts.
func accountKey(f *cmdutil.Factory, o *Options, s *accountserver.Server, arg string) (string, error) {
	if nkeys.IsValidPublicAccountKey(arg) {
		return arg, nil
	}
	st, err := operatorStore(f, o, s.Operator().Subject)
	if err != nil {
		return "", fmt.Errorf("account %q is no account public key, and no signet store to look its name up in: %w", arg, err)
	}
	name, err := st.FindAccount(arg)
	if err != nil {
		return "", fmt.Errorf("%w: pass the account's public key, or a name of `signet list accounts`", err)
	}
	ac, _, err := st.Account(name)
	if err != nil {
		return "", fmt.Errorf("load account %q: %w", name, err)
	}
	return ac.Subject, nil
}

// shutdown closes what open opened; it has nothing to wait for.
func shutdown(s *accountserver.Server) error { return s.Shutdown(context.Background()) }
