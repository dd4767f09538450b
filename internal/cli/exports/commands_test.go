package exports_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestBadInputChangesNothing runs every command with input it must refuse, and checks the
// error names the problem and that no file of the store or keystore changed.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "D")
	e.MustRun("add", "export", "-a", "A", "-s", "news.>")
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--private")
	e.MustRun("add", "export", "-a", "A", "-s", "svc.>", "--service")
	e.MustRun("add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "svc.a", "--local-subject", "c.svc.a", "--service")
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "news.>")
	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.one", "--weight", "70")
	dir := t.TempDir()
	tokC := filepath.Join(dir, "c.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "C", "-s", "help", "-o", tokC)
	garbage := filepath.Join(dir, "garbage.jwt")
	if err := os.WriteFile(garbage, []byte("not a token"), 0o600); err != nil {
		t.Fatal(err)
	}
	userJWT, err := os.ReadFile(openStore(t, e).UserPath("A", "a"))
	if err != nil {
		t.Fatal(err)
	}
	notActivation := filepath.Join(dir, "user.jwt")
	if err := os.WriteFile(notActivation, userJWT, 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"export duplicate", []string{"add", "export", "-a", "A", "-s", "news.>"}, "already exports stream"},
		{"export inside another", []string{"add", "export", "-a", "A", "-s", "news.sport"}, "already exports"},
		{"export no subject", []string{"add", "export", "-a", "A"}, "--subject is required"},
		{"export bad subject", []string{"add", "export", "-a", "A", "-s", "a..b"}, "consecutive"},
		{"export subject with space", []string{"add", "export", "-a", "A", "-s", "a b"}, "spaces"},
		{"export unknown account", []string{"add", "export", "-a", "Z", "-s", "x"}, "not found"},
		{"stream response type", []string{"add", "export", "-a", "A", "-s", "s1", "--response-type", "Stream"}, "only to service exports"},
		{"bad response type", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--response-type", "Many"}, "Singleton, Stream or Chunked"},
		{"sampling out of range", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--latency", "lat", "--sampling", "101"}, "1 to 100"},
		{"sampling zero", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--latency", "lat", "--sampling", "0"}, "1 to 100"},
		{"sampling without latency", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--sampling", "50"}, "needs --latency"},
		{"latency wildcard", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--latency", "lat.*"}, "wildcards"},
		{"negative threshold", []string{"add", "export", "-a", "A", "-s", "s1", "--service", "--response-threshold", "-1s"}, "negative"},
		{"token position without wildcard", []string{"add", "export", "-a", "A", "-s", "s1", "--account-token-position", "1"}, "wildcard"},
		{"token position not on *", []string{"add", "export", "-a", "A", "-s", "s1.*", "--account-token-position", "1"}, "must match a *"},
		{"export bad info url", []string{"add", "export", "-a", "A", "-s", "s1", "--info-url", "::nope"}, "account \"A\" would be invalid"},

		{"edit no subject", []string{"edit", "export", "-a", "A", "--name", "x"}, "--subject is required"},
		{"edit unknown", []string{"edit", "export", "-a", "A", "-s", "nope", "--name", "x"}, "no export with subject \"nope\""},
		{"edit stream with service flag", []string{"edit", "export", "-a", "A", "-s", "news.>", "--response-type", "Chunked"}, "only to service exports"},
		{"edit bad kind", []string{"edit", "export", "-a", "A", "-s", "help", "--kind", "queue", "--name", "x"}, "use service or stream"},
		{"edit rm and set latency", []string{"edit", "export", "-a", "A", "-s", "help", "--rm-latency", "--latency", "l"}, "cannot be combined"},
		{"delete unknown export", []string{"delete", "export", "-a", "A", "-s", "nope"}, "no export with subject"},
		{"delete export no exports", []string{"delete", "export", "-a", "C", "-s", "nope"}, "has no exports"},

		{"import nothing", []string{"add", "import", "-a", "B"}, "--src-account and --remote-subject"},
		{"import token and src", []string{"add", "import", "-a", "B", "--token", tokC, "--src-account", "A"}, "drop --src-account"},
		{"import unknown src", []string{"add", "import", "-a", "B", "--src-account", "Nope", "--remote-subject", "x"}, "not found"},
		{"import from itself", []string{"add", "import", "-a", "A", "--src-account", "A", "--remote-subject", "news.x"}, "cannot import from itself"},
		{"import duplicate", []string{"add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "news.>"}, "already imports stream"},
		{"import share on stream", []string{"add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "news.>", "--share"}, "--share applies only to service"},
		{"import bad local subject", []string{"add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "news.>", "--local-subject", "x..y"}, "--local-subject"},
		{"import local subject not matching >", []string{"add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "news.>", "--local-subject", "x.y"}, "need to end or not end in >"},
		{"service imports overlap", []string{"add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "svc.b", "--local-subject", "c.svc.a", "--service"}, "overlaps the service import"},
		{"token for another account", []string{"add", "import", "-a", "B", "--token", tokC}, "activation token is for account"},
		{"token file missing", []string{"add", "import", "-a", "B", "--token", filepath.Join(dir, "none.jwt")}, "no such file"},
		{"token garbage", []string{"add", "import", "-a", "B", "--token", garbage}, "--token"},
		{"token not an activation", []string{"add", "import", "-a", "B", "--token", notActivation}, "not an activation token"},
		{"delete unknown import", []string{"delete", "import", "-a", "B", "-s", "nope"}, "no import with subject"},
		{"delete import none", []string{"delete", "import", "-a", "D", "-s", "nope"}, "has no imports"},

		{"activation no target", []string{"generate", "activation", "-a", "A", "-s", "help"}, "--target-account is required"},
		{"activation unknown target", []string{"generate", "activation", "-a", "A", "-t", "Nope", "-s", "help"}, "not found"},
		{"activation for itself", []string{"generate", "activation", "-a", "A", "-t", "A", "-s", "help"}, "its own export"},
		{"activation no export", []string{"generate", "activation", "-a", "A", "-t", "B", "-s", "weather"}, "exports nothing matching"},
		{"activation service missing", []string{"generate", "activation", "-a", "A", "-t", "B", "-s", "news.x", "--service"}, "exports no service"},
		{"activation bad expiry", []string{"generate", "activation", "-a", "A", "-t", "B", "-s", "help", "--expiry", "soon"}, "--expiry"},
		{"activation foreign key", []string{"generate", "activation", "-a", "A", "-t", "B", "-s", "help", "-K", account(t, e, "B").Subject}, "not the identity key or a signing key"},

		{"mapping weight over 100", []string{"add", "mapping", "-a", "A", "-f", "x", "-t", "y", "--weight", "101"}, "1 to 100"},
		{"mapping weight negative", []string{"add", "mapping", "-a", "A", "-f", "x", "-t", "y", "--weight", "-1"}, "1 to 100"},
		{"mapping total over 100", []string{"add", "mapping", "-a", "A", "-f", "m", "-t", "m.two", "--weight", "40"}, "would total 110%"},
		{"mapping bad to", []string{"add", "mapping", "-a", "A", "-f", "x", "-t", "y..z"}, "--to"},
		{"mapping bad function", []string{"add", "mapping", "-a", "A", "-f", "x.*", "-t", "y.{{nope(1)}}"}, "mapping \"x.*\" to"},
		{"mapping wildcard out of range", []string{"add", "mapping", "-a", "A", "-f", "x.*", "-t", "y.{{wildcard(5)}}"}, "mapping \"x.*\" to"},
		{"mapping missing from", []string{"add", "mapping", "-a", "A", "-t", "y"}, "--from is required"},
	}
	before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
	for _, c := range cases {
		r := e.Run(c.args...)
		if r.Error == nil {
			t.Errorf("%s: signet %s succeeded\n%s", c.name, strings.Join(c.args, " "), r.Out)
			continue
		}
		if !strings.Contains(r.Error.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, r.Error, c.want)
		}
		if after := clitest.Snapshot(t, e.StoresDir(), e.KeysDir()); !maps.Equal(before, after) {
			t.Fatalf("%s: a refused command changed files on disk", c.name)
		}
	}
}

// TestEditAndDelete checks that edit export changes exactly what its flags say, and that the
// delete commands remove what they name.
func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help.*", "--service", "--private", "-n", "Help",
		"--response-type", "stream", "--description", "the help desk", "--info-url", "https://example.com/help")
	e.MustRun("edit", "export", "-a", "A", "-s", "help.*", "--response-type", "Chunked", "--latency", "lat.help",
		"--sampling", "headers", "--response-threshold", "2s", "--private=false", "--account-token-position", "2", "--advertise")
	ex := account(t, e, "A").Exports
	if len(ex) != 1 {
		t.Fatalf("want one export, have %d", len(ex))
	}
	x := ex[0]
	if x.Name != "Help" || x.TokenReq || x.ResponseType != jwt.ResponseTypeChunked || x.Latency == nil ||
		x.Latency.Results != "lat.help" || x.Latency.Sampling != jwt.Headers || x.ResponseThreshold != 2*time.Second ||
		x.AccountTokenPosition != 2 || !x.Advertise || x.Description != "the help desk" || x.InfoURL != "https://example.com/help" {
		t.Fatalf("export after edit: %+v (latency %+v)", x, x.Latency)
	}
	e.MustRun("edit", "export", "-a", "A", "-s", "help.*", "--rm-latency")
	x = account(t, e, "A").Exports[0]
	if x.TokenReq || x.AccountTokenPosition != 2 || x.Latency != nil || x.ResponseType != jwt.ResponseTypeChunked {
		t.Fatalf("export after second edit: %+v", x)
	}

	remote := "help." + account(t, e, "B").Subject // the account token position asks for B's key
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", remote, "--local-subject", "b.help", "--service")
	im := account(t, e, "B").Imports
	if len(im) != 1 || !im[0].IsService() || im[0].LocalSubject != "b.help" || string(im[0].Subject) != remote {
		t.Fatalf("the import should be a service at b.help: %+v", im)
	}
	e.MustRun("delete", "import", "-a", "B", "-s", "b.help")
	if n := len(account(t, e, "B").Imports); n != 0 {
		t.Fatalf("B still has %d imports", n)
	}
	e.MustRun("delete", "export", "-a", "A", "-s", "help.*")
	if n := len(account(t, e, "A").Exports); n != 0 {
		t.Fatalf("A still has %d exports", n)
	}

	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.a", "--weight", "50")
	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.b", "--weight", "50")
	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.b", "--weight", "30") // updates the weight
	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.c", "--weight", "100", "--cluster", "east")
	m := account(t, e, "A").Mappings["m"]
	if len(m) != 3 || m[1].Subject != "m.b" || m[1].Weight != 30 || m[2].Cluster != "east" {
		t.Fatalf("mappings: %+v", m)
	}
	e.MustRun("delete", "mapping", "-a", "A", "-f", "m", "-t", "m.a")
	if m := account(t, e, "A").Mappings["m"]; len(m) != 2 || m[0].Subject != "m.b" {
		t.Fatalf("after deleting m.a: %+v", m)
	}
	e.MustRun("delete", "mapping", "-a", "A", "-f", "m")
	if _, ok := account(t, e, "A").Mappings["m"]; ok {
		t.Fatal("mapping m still present")
	}
}

// TestImportTokenFromURL imports with an activation token served over HTTP, decorated.
func TestImportTokenFromURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "feed", "--private")
	decorated := e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "feed")
	token, err := jwt.ParseDecoratedJWT([]byte(decorated))
	if err != nil {
		t.Fatalf("stdout is not a decorated token: %v\n%s", err, decorated)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/act" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(decorated))
	}))
	t.Cleanup(srv.Close)

	if msg := e.MustFail("add", "import", "-a", "B", "--token", srv.URL+"/missing"); !strings.Contains(msg, "404") {
		t.Fatalf("a missing URL should report the HTTP status: %s", msg)
	}
	e.MustRun("add", "import", "-a", "B", "--token", srv.URL+"/act", "--local-subject", "a.feed")
	im := account(t, e, "B").Imports
	if len(im) != 1 || im[0].Token != token || !im[0].IsStream() || im[0].Subject != "feed" || im[0].LocalSubject != "a.feed" {
		t.Fatalf("import from URL: %+v", im)
	}
}

// TestExpiredActivationRefused: an activation whose expiry has passed is not imported.
func TestExpiredActivationRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "feed", "--private")
	tok := filepath.Join(t.TempDir(), "act.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "feed", "-o", tok, "--expiry", "1d")
	e.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	if msg := e.MustFail("add", "import", "-a", "B", "--token", tok); !strings.Contains(msg, "expired") {
		t.Fatalf("expired token: %s", msg)
	}
}

// TestRevokedActivationRefused: an activation the exporting account revoked is not imported.
func TestRevokedActivationRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "feed", "--private")
	tok := filepath.Join(t.TempDir(), "act.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "feed", "-o", tok)
	e.MustRun("revocations", "add-activation", "-a", "A", "-t", "B", "-s", "feed")
	if msg := e.MustFail("add", "import", "-a", "B", "--token", tok); !strings.Contains(msg, "revoked") {
		t.Fatalf("revoked token: %s", msg)
	}
}
