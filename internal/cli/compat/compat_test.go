package compat_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
)

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var exit *cmdutil.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	t.Fatalf("want an exit status, got error %v", err)
	return 0
}

func TestNscCommandsSignetLeavesOutExitOneWithAHint(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	for _, c := range []struct {
		path, flags, hint string
	}{
		{"generate diagram component", "-o x.puml", "signet draws no diagrams"},
		{"generate diagram object", "--show-keys", "signet draws no diagrams"},
		{"keys migrate", "", "`nsc keys migrate`"},
		{"reissue operator", "--name O", "rotate signing-key --operator"},
		{"update", "--version latest", "go install"},
		{"load", "--profile nsc://x", "signet init -u"},
		{"fix", "--in dir", "signet import account"},
		{"migrate", "--url x", "nsc 2.x"},
		{"upgrade-jwt", "", "nsc 2.x"},
		{"rename account", "A B", "signet add account"},
		{"test nkey", "", "signet generate nkey"},
		{"test doc", "dir", "no signet counterpart"},
		{"test flags", "", "no signet counterpart"},
		{"test whoflag", "--name", "no signet counterpart"},
	} {
		args := append(strings.Fields(c.path), strings.Fields(c.flags)...)
		r := e.Run(args...)
		if exitCode(t, r.Error) != 1 {
			t.Errorf("%s: exit %v, want 1", c.path, r.Error)
		}
		want := "[WARN] nsc's `" + c.path + "` is not supported by signet: "
		if !strings.HasPrefix(r.Err, want) || !strings.Contains(r.Err, c.hint) || r.Out != "" {
			t.Errorf("%s: stderr %q, stdout %q; want %q... with %q", c.path, r.Err, r.Out, want, c.hint)
		}
	}
	// Asking for help shows the hint and succeeds.
	r := e.Run("update", "--help")
	if r.Error != nil || !strings.Contains(r.Err, "go install") {
		t.Errorf("update --help: %v %q", r.Error, r.Err)
	}
	// They stay out of signet's help.
	if out := e.MustRun("--help"); strings.Contains(out, "update") || strings.Contains(out, "reissue") {
		t.Errorf("help lists an unsupported command:\n%s", out)
	}
}

func TestInteractiveIsRefusedWithAHintAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	for _, args := range [][]string{{"add", "account", "-i"}, {"edit", "account", "O", "--interactive"}, {"-i", "describe", "operator"}} {
		r := e.Run(args...)
		if exitCode(t, r.Error) != 1 || !strings.Contains(r.Err, "[WARN] nsc's --interactive (-i) is not supported by signet: pass the values as flags") {
			t.Errorf("%v: %v, stderr %q", args, r.Error, r.Err)
		}
	}
	if out := e.MustRun("list", "accounts", "--json"); strings.Count(out, `"name"`) != 2 {
		t.Errorf("an account was added:\n%s", out)
	}
}

func TestGlobalPrivateKeyOnACommandThatSignsNothingWarnsAndRuns(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	r := e.Run("describe", "account", "O", "-K", "SOMETHING")
	if r.Error != nil || !strings.Contains(r.Out, "Account Details") {
		t.Fatalf("describe account -K: %v\n%s", r.Error, r.Err)
	}
	if !strings.Contains(r.Err, "[WARN] nsc's -K/--private-key is ignored by `signet describe account`: it signs nothing") {
		t.Errorf("stderr %q", r.Err)
	}
	// A command that signs takes its own -K, without that warning: "O" names no key, so it
	// signs with the operator's identity key, as nsc does, and says so.
	r = e.Run("add", "account", "B", "-K", "O")
	if r.Error != nil || strings.Contains(r.Err, "signs nothing") || !strings.Contains(r.Err, "[WARN] -K ignored") {
		t.Errorf("add account -K O (not a key): %v, stderr %q", r.Error, r.Err)
	}
}

func TestCreateIsNscAliasOfAdd(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("create", "operator", "O", "--sys")
	e.MustRun("create", "account", "A")
	if out := e.MustRun("list", "accounts"); !strings.Contains(out, " A ") {
		t.Errorf("create account did not add A:\n%s", out)
	}
}

func TestSecondsOrDurationTakesNscWholeSeconds(t *testing.T) {
	t.Parallel()
	var d time.Duration
	v := compat.SecondsOrDuration(&d)
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "1500ms": 1500 * time.Millisecond, "0": 0} {
		if err := v.Set(in); err != nil || d != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, bad := range []string{"-1", "soon"} {
		if err := v.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestFolderFlagsAreGlobalAsInNsc(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	cfg, data, keys := filepath.Join(e.Home, "cfg"), filepath.Join(e.Home, "stores"), filepath.Join(e.Home, "keys")
	dirs := []string{"--config-dir", cfg, "--data-dir", data, "--keystore-dir", keys}
	e.MustRun(append([]string{"init", "-n", "O"}, dirs...)...)
	for _, p := range []string{filepath.Join(cfg, "nsc.json"), filepath.Join(data, "O", "O.jwt"), filepath.Join(keys, "creds", "O", "O", "O.creds")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Before the subcommand too.
	if out := e.MustRun(append(dirs, "list", "accounts", "--json")...); !strings.Contains(out, `"name": "O"`) {
		t.Errorf("list accounts with the folder flags first:\n%s", out)
	}
}

func TestStartTagAndServiceURLFlagsAddAndRemove(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "--tag", "env:prod,keep", "--service-url", "nats://a:4222", "--start", "2030-01-02")
	e.MustRun("edit", "operator", "--rm-tag", "env:prod", "--rm-service-url", "nats://a:4222")
	e.MustRun("edit", "account", "O", "--tag", "a,b", "--start", "1d")
	e.MustRun("edit", "account", "O", "--rm-tag", "a")
	e.MustRun("add", "user", "u", "-a", "O", "--tag", "x,y", "--start", "2030-01-02")
	e.MustRun("edit", "user", "u", "-a", "O", "--rm-tag", "x")
	var op struct {
		Nbf  int64 `json:"nbf"`
		Nats struct {
			Tags []string `json:"tags"`
			URLs []string `json:"operator_service_urls"`
		} `json:"nats"`
	}
	if err := json.Unmarshal([]byte(e.MustRun("describe", "operator", "--json")), &op); err != nil {
		t.Fatal(err)
	}
	if op.Nbf == 0 || strings.Join(op.Nats.URLs, ",") != "nats://localhost:4222" /* init's */ || strings.Join(op.Nats.Tags, ",") != "keep" {
		t.Errorf("operator after --start, --rm-tag, --rm-service-url: %+v", op)
	}
	for _, c := range []struct{ args []string }{{[]string{"describe", "account", "O", "--json"}}, {[]string{"describe", "user", "u", "-a", "O", "--json"}}} {
		var j struct {
			Nbf  int64 `json:"nbf"`
			Nats struct {
				Tags []string `json:"tags"`
			} `json:"nats"`
		}
		if err := json.Unmarshal([]byte(e.MustRun(c.args...)), &j); err != nil {
			t.Fatal(err)
		}
		if j.Nbf == 0 || len(j.Nats.Tags) != 1 {
			t.Errorf("%v: nbf %d, tags %v", c.args, j.Nbf, j.Nats.Tags)
		}
	}
}
