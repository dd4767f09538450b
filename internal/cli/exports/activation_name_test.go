package exports_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
)

// TestActivationTokenIsNamedAfterItsSubject: as nsc, generate activation names the token after
// the subject it grants (the export's subject or a narrower one), not after the export, and
// add import --token names the import after the token.
func TestActivationTokenIsNamedAfterItsSubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "priv.>", "-n", "Private", "--private")
	dir := t.TempDir()
	for _, tc := range []struct{ subject, importer string }{{"priv.>", "B"}, {"priv.x", "C"}} {
		tok := filepath.Join(dir, tc.importer+".jwt")
		e.MustRun("generate", "activation", "-a", "A", "-t", tc.importer, "-s", tc.subject, "-o", tok)
		data, err := os.ReadFile(tok)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.ParseDecoratedJWT(data)
		if err != nil {
			t.Fatal(err)
		}
		act, err := jwt.DecodeActivationClaims(raw)
		if err != nil {
			t.Fatal(err)
		}
		if act.Name != tc.subject {
			t.Errorf("activation of %q is named %q, want %q", tc.subject, act.Name, tc.subject)
		}
		e.MustRun("add", "import", "-a", tc.importer, "--token", tok)
		im := account(t, e, tc.importer).Imports
		if len(im) != 1 || im[0].Name != tc.subject || string(im[0].Subject) != tc.subject {
			t.Errorf("import made from the activation of %q: %+v", tc.subject, im)
		}
	}
}
