package generate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredsAndConfigOutputDashDashIsStdout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if out := e.MustRun("generate", "creds", "-a", "O", "-n", "O", "-o", "--"); !strings.Contains(out, "-----BEGIN NATS USER JWT-----") {
		t.Errorf("creds -o --:\n%s", out)
	}
	if out := e.MustRun("generate", "config", "--mem-resolver", "--config-file", "--"); !strings.Contains(out, "resolver_preload") {
		t.Errorf("config --config-file --:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(e.Wd, "--")); err == nil {
		t.Error("a file named -- was written")
	}
}

func TestConfigNkeyAndDirAreRefusedWithAHint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for flag, args := range map[string][]string{"--nkey": {"--nkey"}, "--dir": {"--mem-resolver", "--dir", "conf"}} {
		r := e.Run(append([]string{"generate", "config"}, args...)...)
		if r.Error == nil || r.Out != "" || !strings.Contains(r.Err, "[WARN] nsc's "+flag+" is not supported by signet: ") {
			t.Errorf("generate config %v: %v, stdout %q, stderr %q", args, r.Error, r.Out, r.Err)
		}
	}
	if _, err := os.Stat(filepath.Join(e.Wd, "conf")); err == nil {
		t.Error("--dir wrote a folder")
	}
}

func TestCacheResolverConfigHasNscTTLOfAnHour(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if out := e.MustRun("generate", "config", "--nats-resolver-cache"); !strings.Contains(out, `ttl: "1h"`) {
		t.Errorf("cache resolver ttl:\n%s", out)
	}
}
