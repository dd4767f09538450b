package cli_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// shellWords splits a command line as a POSIX shell does (quotes removed), by asking one.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `for w in `+line+`; do printf '%s\0' "$w"; done`).Output()
	if err != nil {
		t.Fatalf("sh: split %s: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// A hint that shows a command with a name in it quotes the name for the shell: pasted back, the
// command runs on that name, spaces and all.
func TestHintsWithNamesCanBePastedBack(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "O")
	e.MustRun("add", "account", "my team")
	e.MustRun("add", "user", "a b", "-a", "my team")
	e.MustRun("add", "user", "c", "-a", "my team")
	hint := regexp.MustCompile("`(signet [^`]*)`")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "creds", "-a", "my team", "-n", "nobody"}, "signet list users -a 'my team'"},
		{[]string{"describe", "user", "-a", "my team"}, "signet describe user NAME -a 'my team'"},
	} {
		msg := e.MustFail(c.args...)
		m := hint.FindStringSubmatch(msg)
		if m == nil || m[1] != c.want {
			t.Errorf("%v: hint in %q, want `%s`", c.args, msg, c.want)
			continue
		}
		words := shellWords(t, strings.ReplaceAll(m[1], "NAME", "'a b'"))
		if out := e.MustRun(words[1:]...); !strings.Contains(out, "a b") {
			t.Errorf("pasted %v: %s", words, out)
		}
	}
}
