// Package readme tests that the README's examples work: every ```sh block after the two set-up
// commands is run, in order, in one shell, in a fresh environment.
package readme

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The test runs a signet binary it builds; importing the command tree makes Go's test cache
	// notice when the code behind that binary changes.
	_ "github.com/signet-dev/signet/internal/cli"
)

// shBlocks returns the bodies of the ```sh code blocks of a Markdown text.
func shBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func TestREADMEStartsWithTheTwoSetupCommands(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(string(data))
	if len(blocks) < 2 || strings.TrimSpace(blocks[0]) != "go run ./cmd/signet dev" || strings.TrimSpace(blocks[1]) != "go test ./..." {
		t.Fatalf("the README must open with `go run ./cmd/signet dev` and `go test ./...`, got %q", blocks[:min(2, len(blocks))])
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\ngo test ./...\n") {
		t.Fatal(".ci/run does not run the README's test command")
	}
}

func TestREADMEExamples(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	for _, b := range shBlocks(string(data)) {
		if strings.HasPrefix(strings.TrimSpace(b), "go ") {
			continue // the set-up commands: run by CI itself and by the dev test
		}
		script = append(script, b)
	}
	if len(script) < 4 {
		t.Fatalf("found only %d example blocks in the README", len(script))
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "signet"), "github.com/signet-dev/signet/cmd/signet")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build signet: %v\n%s", err, out)
	}
	text := strings.ReplaceAll(strings.Join(script, "\n"), "9090", freePort(t))
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", "set -x\n"+text)
	cmd.Dir = home
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NKEYS_PATH=", "NSC_HOME=", "SIGNET_NO_PUSH=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README examples failed: %v\n%s", err, out)
	}
	// What the README promises the examples show.
	for _, want := range []string{"sales.support.pam.>", `added user "bob" to account "A"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("README example output lacks %q:\n%s", want, out)
		}
	}
}
