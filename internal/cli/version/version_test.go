package version_test

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/version"
)

func TestVersionTextShowsModuleVersionRevisionTimeAndGo(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/signet-dev/signet", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	want := "signet version v1.2.3\ncommit:  0123456789abcdef (modified)\nbuilt:   2026-01-02T03:04:05Z\ngo:      go1.99.1\n"
	if got := version.Text(bi, true); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
	// Without VCS stamps (go build -buildvcs=false, go test): the version and Go only.
	bare := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}}
	if got := version.Text(bare, true); got != "signet version (devel)\ngo:      go1.99.1\n" {
		t.Errorf("Text without VCS: %q", got)
	}
	if got := version.Text(nil, false); !strings.HasPrefix(got, "signet version unknown") {
		t.Errorf("Text without build info: %q", got)
	}
}

func TestVersionFlagAndCommandPrintTheBuildInfo(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	cmd := e.MustRun("version")
	if !strings.HasPrefix(cmd, "signet version ") || !strings.Contains(cmd, "go:      "+runtime.Version()+"\n") {
		t.Errorf("signet version:\n%s", cmd)
	}
	if flag := e.MustRun("--version"); flag != cmd {
		t.Errorf("signet --version differs from signet version:\n%s\n%s", flag, cmd)
	}
	if short := e.MustRun("-v"); short != cmd {
		t.Errorf("signet -v (nsc's shorthand) differs:\n%s", short)
	}
}
