// Package clitest runs signet commands in-process for tests: each Env has its own temporary
// XDG folders, so tests run in parallel without touching the real home directory.
package clitest

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Env is an isolated signet environment.
type Env struct {
	T    testing.TB
	Home string
	Vars map[string]string
	Wd   string
	Now  func() time.Time
	// Root builds the command tree; tests pass cli.NewRootCmd (clitest cannot import cli).
	Root func(f *cmdutil.Factory) *cobra.Command
	// Setup, when set, adjusts each Factory before the command runs (e.g. hooks).
	Setup func(f *cmdutil.Factory)
	// Width, when above 0, makes stdout a terminal of that many columns: tables fit it.
	Width int
}

// New makes an Env with empty XDG folders under t.TempDir().
func New(t testing.TB, root func(f *cmdutil.Factory) *cobra.Command) *Env {
	home := t.TempDir()
	return &Env{
		T:    t,
		Home: home,
		Root: root,
		Vars: map[string]string{
			"HOME":            home,
			"XDG_CONFIG_HOME": filepath.Join(home, "config"),
			"XDG_DATA_HOME":   filepath.Join(home, "data"),
		},
		Wd: home,
	}
}

// Result is what a command printed and returned.
type Result struct {
	Out, Err string
	Error    error
}

// Run executes signet with args.
func (e *Env) Run(args ...string) Result { return e.RunContext(context.Background(), args...) }

// RunContext executes signet with args under ctx: a command that runs until interrupted (tool
// sub, tool reply) stops when ctx ends, so a test can run it beside other commands.
func (e *Env) RunContext(ctx context.Context, args ...string) Result {
	var out, errOut bytes.Buffer
	var stdout io.Writer = &out
	if e.Width > 0 {
		width := e.Width
		stdout = cmdutil.WithWidth(&out, func() int { return width })
	}
	f := cmdutil.NewFactory(strings.NewReader(""), stdout, &errOut, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Environ = func() []string {
		var out []string
		for k, v := range e.Vars {
			out = append(out, k+"="+v)
		}
		return out
	}
	f.Getwd = func() (string, error) { return e.Wd, nil }
	if e.Now != nil {
		f.Now = e.Now
	}
	if e.Setup != nil {
		e.Setup(f)
	}
	root := e.Root(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return Result{Out: out.String(), Err: errOut.String(), Error: err}
}

// MustRun executes signet with args and fails the test on error.
func (e *Env) MustRun(args ...string) string {
	e.T.Helper()
	r := e.Run(args...)
	if r.Error != nil {
		e.T.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Out, r.Err)
	}
	return r.Out
}

// MustRunStatus executes signet with args, fails the test on error, and returns stderr: the
// `[ OK ]`, `[INFO]` and `[WARN]` status lines go there, as nsc sends them, and stdout keeps the data.
func (e *Env) MustRunStatus(args ...string) string {
	e.T.Helper()
	r := e.Run(args...)
	if r.Error != nil {
		e.T.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Out, r.Err)
	}
	return r.Err
}

// MustFail executes signet with args and fails the test unless it errors; it returns the error text.
func (e *Env) MustFail(args ...string) string {
	e.T.Helper()
	r := e.Run(args...)
	if r.Error == nil {
		e.T.Fatalf("signet %s: expected an error, got none\nstdout:\n%s", strings.Join(args, " "), r.Out)
	}
	return r.Error.Error()
}

// KeysDir is the Env's keystore folder.
func (e *Env) KeysDir() string { return filepath.Join(e.Vars["XDG_DATA_HOME"], "nats", "nsc", "keys") }

// StoresDir is the Env's stores folder.
func (e *Env) StoresDir() string {
	return filepath.Join(e.Vars["XDG_DATA_HOME"], "nats", "nsc", "stores")
}

// Snapshot maps every file under the given folders (the lock files left out) to its content,
// so that a test can show a refused command changed nothing.
func Snapshot(t testing.TB, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "lock" {
				return err
			}
			data, err := os.ReadFile(p)
			out[p] = string(data)
			return err
		})
		if err != nil {
			t.Fatalf("snapshot %s: %v", dir, err)
		}
	}
	return out
}
