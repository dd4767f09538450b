package shellquote

import (
	"os/exec"
	"testing"
)

func TestQuoteLeavesPlainNamesAndQuotesTheRest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"A":           "A",
		"team-1.prod": "team-1.prod",
		"":            "''",
		"my team":     "'my team'",
		"it's":        `'it'\''s'`,
		"orders.>":    "'orders.>'",
		"a*":          "'a*'",
		"$HOME":       "'$HOME'",
		"équipe":      "'équipe'",
		"-n":          "-n",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Join("signet", "edit", "account", "my team"); got != "signet edit account 'my team'" {
		t.Errorf("Join: %s", got)
	}
}

// What Quote returns is what a shell hands back as one word.
func TestQuotedWordsSurviveARealShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"my team", "it's", "orders.>", "a*b", "$HOME `x` \\ \"q\"", "tab\there", "line\nbreak", "!bang"} {
		out, err := exec.Command(sh, "-c", "printf '%s' "+Quote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh printf %s: %q (%v), want %q", Quote(in), out, err, in)
		}
	}
}
