package serve

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
)

func TestServeAcceptsNatsAccountServerCommandLine(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	dir := t.TempDir()
	opPath := filepath.Join(dir, "op.jwt")
	if err := os.WriteFile(opPath, []byte(op.JWT), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nas.conf")
	if err := os.WriteFile(conf, []byte(`operatorjwtpath: "`+opPath+`"
http { host: "0.0.0.0", port: 9999 }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse(t, "-c", conf, "-hp", "127.0.0.1:1234", "-dir", "/jwts", "-nats", "nats://a:1,nats://b:2",
		"-creds", "sys.creds", "-ro", "-DV")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Host != "127.0.0.1" || cfg.HTTP.Port != 1234 || cfg.Store.Dir != "/jwts" || !cfg.Store.ReadOnly ||
		len(cfg.NATS.Servers) != 2 || cfg.NATS.UserCredentials != "sys.creds" || !cfg.Logging.Debug || !cfg.Logging.Trace {
		t.Fatalf("nats-account-server flags: %+v", cfg)
	}
	// -flag=value, signet's own long names with one dash, -ro=false, -D and -V alone.
	cfg, err = parse(t, "-operator="+opPath, "-hp=0.0.0.0:9", "-ro=false", "-shard", "-dir=/jwts", "-V")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OperatorJWTPath != opPath || cfg.HTTP.Port != 9 || cfg.Store.ReadOnly || !cfg.Store.Shard || cfg.Store.Dir != "/jwts" || cfg.Logging.Debug || !cfg.Logging.Trace {
		t.Fatalf("second command line: %+v", cfg)
	}
	// nats-account-server's $NATS_ACCOUNT_SERVER_CONFIG stands in for -c.
	cfg, err = parseEnv(t, map[string]string{"NATS_ACCOUNT_SERVER_CONFIG": conf}, "-D")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Port != 9999 || cfg.OperatorJWTPath != opPath || !cfg.Logging.Debug {
		t.Fatalf("config from the environment: %+v", cfg)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-nsc", "~/.nsc/nats/O"}, "-nsc"},
		{[]string{"-operator", opPath, "-primary", "http://x:9090"}, "-primary"},
		{[]string{"-operator", opPath, "-hp"}, "needs an argument"},
		{[]string{"-operator", opPath, "-bogus"}, "bogus"},
		{[]string{"-operator", opPath, "stray"}, "no arguments"},
	} {
		if _, err := parse(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}

func TestRewriteLegacyArgsLeavesValuesShorthandsAndTheRestAlone(t *testing.T) {
	fs := newCmdServe(cmdutil.NewFactory(strings.NewReader(""), io.Discard, io.Discard, false), nil).Flags()
	for _, c := range []struct{ in, want string }{
		{"-hp 1.2.3.4:5 -dir d", "--http 1.2.3.4:5 --dir d"},
		{"-creds -odd.creds -ro", "--creds -odd.creds --readonly"},
		{"-c -dir -DV", "-c -dir -DV"},            // -c's value is "-dir"
		{"--dir -hp -hp x", "--dir -hp --http x"}, // --dir's value is "-hp"
		{"-dir=x -- -hp", "--dir=x -- -hp"},       // nothing after --
		{"-signing-key k.nk -debug", "--signing-key k.nk --debug"},
	} {
		got, err := RewriteLegacyArgs(strings.Fields(c.in), fs)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%q -> %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
}

// parseEnv is parse with an environment.
func parseEnv(t *testing.T, env map[string]string, args ...string) (accountserver.Config, error) {
	t.Helper()
	var got accountserver.Config
	var cfgErr error
	f := cmdutil.NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, false)
	f.Getenv = func(k string) string { return env[k] }
	cmd := newCmdServe(f, func(_ context.Context, f *cmdutil.Factory, o *Options) error {
		got, cfgErr = Config(f, o)
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		return got, err
	}
	return got, cfgErr
}

// The command line of a nats-account-server deployment starts a signet serve that serves and
// stores what it was told to.
func TestServeRunsFromANatsAccountServerCommandLine(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	dir := t.TempDir()
	opPath := filepath.Join(dir, "op.jwt")
	if err := os.WriteFile(opPath, []byte(op.JWT), 0o644); err != nil {
		t.Fatal(err)
	}
	jwts := filepath.Join(dir, "jwts")
	if err := os.Mkdir(jwts, 0o700); err != nil {
		t.Fatal(err)
	}
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, io.Discard, false)
	f.Getenv = func(string) string { return "" }
	ready := make(chan *accountserver.Server, 1)
	cmd := newCmdServe(f, func(ctx context.Context, f *cmdutil.Factory, o *Options) error {
		o.Started = func(s *accountserver.Server) { ready <- s }
		return Run(ctx, f, o)
	})
	cmd.SetArgs([]string{"-operator", opPath, "-hp", "127.0.0.1:0", "-dir", jwts})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var s *accountserver.Server
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	_, apub, ajwt := op.Account(t, "A")
	resp, err := http.Post(s.ResolverURL()+apub, "application/jwt", strings.NewReader(ajwt))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST account: %d", resp.StatusCode)
	}
	// -dir is where the account went (flat or sharded: look for it).
	var found string
	_ = filepath.Walk(jwts, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(filepath.Base(p), apub) {
			found = p
		}
		return nil
	})
	data, err := os.ReadFile(found)
	if found == "" || err != nil {
		t.Fatalf("account not stored under -dir %s: %v", jwts, err)
	}
	if ac, err := jwt.DecodeAccountClaims(strings.TrimSpace(string(data))); err != nil || ac.Subject != apub {
		t.Fatalf("stored account: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
