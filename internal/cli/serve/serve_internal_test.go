package serve

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
)

// parse runs signet serve's flag parsing and Config in an empty signet environment.
func parse(t *testing.T, args ...string) (accountserver.Config, error) {
	t.Helper()
	home := t.TempDir()
	return parseIn(t, map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME":   filepath.Join(home, "data"),
	}, args...)
}

// parseIn is parse in the environment vars.
func parseIn(t *testing.T, vars map[string]string, args ...string) (accountserver.Config, error) {
	t.Helper()
	var got accountserver.Config
	var cfgErr error
	f := cmdutil.NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, false)
	f.Getenv = func(k string) string { return vars[k] }
	f.Getwd = func() (string, error) { return vars["HOME"], nil }
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

func TestFlagsOverrideFile(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	dir := t.TempDir()
	opPath := filepath.Join(dir, "op.jwt")
	if err := os.WriteFile(opPath, []byte(op.JWT), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(conf, []byte(`operatorjwtpath: "`+opPath+`"
http { host: "0.0.0.0", port: 9999 }
store { dir: "/from/file", shard: true }
nats { servers: ["nats://file:4222"], usercredentials: "file.creds" }
`), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := parse(t, "-c", conf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Host != "0.0.0.0" || cfg.HTTP.Port != 9999 || cfg.Store.Dir != "/from/file" || !cfg.Store.Shard {
		t.Fatalf("file values: %+v", cfg)
	}

	cfg, err = parse(t, "-c", conf, "--http", "127.0.0.1:1234", "--dir", "/from/flag", "--shard=false",
		"--nats", "nats://a:1, nats://b:2", "--creds", "flag.creds", "--readonly")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Host != "127.0.0.1" || cfg.HTTP.Port != 1234 || cfg.Store.Dir != "/from/flag" || cfg.Store.Shard || !cfg.Store.ReadOnly {
		t.Fatalf("flags did not override: %+v", cfg)
	}
	if len(cfg.NATS.Servers) != 2 || cfg.NATS.Servers[1] != "nats://b:2" || cfg.NATS.UserCredentials != "flag.creds" {
		t.Fatalf("nats flags: %+v", cfg.NATS)
	}

	// A store setting that needs a directory takes it from the flag.
	ro := filepath.Join(dir, "readonly.conf")
	if err := os.WriteFile(ro, []byte(`operatorjwtpath: "`+opPath+`"
store { readonly: true, shard: true }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = parse(t, "-c", ro, "--dir", "/from/flag"); err != nil || !cfg.Store.ReadOnly || !cfg.Store.Shard || cfg.Store.Dir != "/from/flag" {
		t.Fatalf("readonly and shard from the file, dir from the flag: %+v %v", cfg.Store, err)
	}

	// Without a file: defaults and --operator as a file.
	cfg, err = parse(t, "--operator", opPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Host != "127.0.0.1" || cfg.HTTP.Port != 9090 || cfg.OperatorJWTPath != opPath {
		t.Fatalf("defaults: %+v", cfg)
	}

	if _, err := parse(t); err == nil || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("no operator: %v", err)
	}
	if _, err := parse(t, "--operator", opPath, "--http", "nope"); err == nil {
		t.Fatal("bad --http accepted")
	}
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("http {\n  prot: 1\n}\n"), 0o600)
	if _, err := parse(t, "-c", bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad config: %v", err)
	}
}
