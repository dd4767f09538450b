package generate_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestGenerateCredsPicksTheOnlyUser: with the user left out, generate creds writes the creds of
// the account's only user, as nsc does; an account with no user or with several still needs
// the name.
func TestGenerateCredsPicksTheOnlyUser(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("add", "account", "A")
	if msg := e.MustFail("generate", "creds"); !strings.Contains(msg, "user name is required") || !strings.Contains(msg, "no users") {
		t.Errorf("no user: error %q", msg)
	}
	e.MustRun("add", "user", "U")
	creds := e.MustRun("generate", "creds")
	tok, err := jwt.ParseDecoratedJWT([]byte(creds))
	if err != nil {
		t.Fatalf("creds %q: %v", creds, err)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil || uc.Name != "U" {
		t.Fatalf("creds of %+v (%v), want user U", uc, err)
	}
	if byName := e.MustRun("generate", "creds", "-a", "A", "-n", "U"); byName != creds {
		t.Errorf("creds of the only user differ from `-n U`:\n%s\n%s", creds, byName)
	}
	e.MustRun("add", "user", "V")
	if msg := e.MustFail("generate", "creds"); !strings.Contains(msg, "user name is required") || !strings.Contains(msg, "2 users (U, V)") {
		t.Errorf("two users: error %q", msg)
	}
}
