package inspect_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// The outputs below are contracts with scripts written for nsc; the expected bytes were checked
// against the reference nsc binary on the same store.

// signedJWT signs a hand-written account JWT body, so that it can hold a field jwt/v2 does not know.
func signedJWT(t *testing.T, body map[string]any) string {
	t.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	body["iss"], body["sub"] = opub, apub
	payload, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ed25519-nkey"}`))
	signing := head + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := okp.Sign([]byte(signing))
	if err != nil {
		t.Fatal(err)
	}
	tok := signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	if _, err := jwt.DecodeAccountClaims(tok); err != nil {
		t.Fatalf("hand-made JWT does not decode: %v", err)
	}
	return tok
}

func TestDescribeJSONIsTheJWTBodyLaidOutAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := signedJWT(t, map[string]any{
		"jti": "J", "iat": 1700000000, "name": "A", "x_future_field": map[string]any{"b": 1, "a": "x.>"},
		"nats": map[string]any{"type": "account", "version": 2, "limits": map[string]any{"conn": -1}},
	})
	file := filepath.Join(t.TempDir(), "a.jwt")
	if err := os.WriteFile(file, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	got := e.MustRun("describe", "jwt", "-f", file, "-J")
	// Keys sorted, one-space indent, no HTML escaping, the encoder's newline and nsc's own.
	sub, _ := jwt.DecodeAccountClaims(tok)
	want := "{\n \"iat\": 1700000000,\n \"iss\": \"" + sub.Issuer + "\",\n \"jti\": \"J\",\n \"name\": \"A\",\n" +
		" \"nats\": {\n  \"limits\": {\n   \"conn\": -1\n  },\n  \"type\": \"account\",\n  \"version\": 2\n },\n" +
		" \"sub\": \"" + sub.Subject + "\",\n \"x_future_field\": {\n  \"a\": \"x.>\",\n  \"b\": 1\n }\n}\n\n"
	if got != want {
		t.Errorf("describe jwt -J:\n%s\nwant:\n%s", got, want)
	}
	if long := e.MustRun("describe", "jwt", "-f", file, "--json"); long != got {
		t.Errorf("--json differs from -J:\n%s", long)
	}
	// A field jwt/v2 does not know is still there for -F.
	if got := e.MustRun("describe", "jwt", "-f", file, "-F", "x_future_field"); got != `{"a":"x.\u003e","b":1}`+"\n" {
		t.Errorf("-F x_future_field = %q", got)
	}
}

func TestFieldPrintsJSONValuesAndReadsIndexesAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("edit", "account", "O", "--sk", "generate", "--sk", "generate", "--conns", "7")
	e.MustRun("add", "export", "-a", "O", "--subject", "svc.>", "--service")
	s := openStore(t, e, "O")
	ac, _, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	field := func(path string) string {
		t.Helper()
		out := e.MustRun("describe", "account", "O", "-F", path)
		if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("-F %s: want one line, got %q", path, out)
		}
		return strings.TrimSuffix(out, "\n")
	}
	// A string is quoted (so `jq -r` gives it back), a number is bare.
	if got := field("sub"); got != strconv.Quote(ac.Subject) {
		t.Errorf("-F sub = %s", got)
	}
	var unquoted string
	if err := json.Unmarshal([]byte(field("name")), &unquoted); err != nil || unquoted != "O" {
		t.Errorf("-F name does not decode to the name: %q %v", unquoted, err)
	}
	if got := field("nats.limits.conn"); got != "7" {
		t.Errorf("-F nats.limits.conn = %s", got)
	}
	// Indexes, in brackets or dotted.
	keys := ac.SigningKeys.Keys()
	for _, path := range []string{"nats.signing_keys[1]", "nats.signing_keys.1"} {
		var k string
		if err := json.Unmarshal([]byte(field(path)), &k); err != nil || !ac.SigningKeys.Contains(k) {
			t.Errorf("-F %s = %q (%v), want one of %v", path, k, err, keys)
		}
	}
	// Go's default escaping, as nsc's json.Marshal.
	if got := field("nats.exports[0].subject"); got != `"svc.\u003e"` {
		t.Errorf("-F nats.exports[0].subject = %s", got)
	}
	// An object is compact with sorted keys.
	obj := field("nats.exports[0]")
	if obj != `{"name":"svc.\u003e","response_type":"Singleton","subject":"svc.\u003e","type":"service"}` {
		t.Errorf("-F nats.exports[0] = %s", obj)
	}
	// An absent key is null; reading through a value or past the end is an error, not a panic.
	if got := field("nats.nothing_here"); got != "null" {
		t.Errorf("-F nats.nothing_here = %s", got)
	}
	mustContain(t, e.MustFail("describe", "account", "O", "-F", "nats.signing_keys[2]"), "out of range")
	mustContain(t, e.MustFail("describe", "account", "O", "-F", "nats.signing_keys[-1]"), "out of range")
	mustContain(t, e.MustFail("describe", "account", "O", "-F", "nats.signing_keys[x]"), "not an index")
	mustContain(t, e.MustFail("describe", "account", "O", "-F", "name.first"), "is a value")
	mustContain(t, e.MustFail("describe", "account", "O", "-F", "nats.signing_keys[0"), "bad index")
}

func TestDescribeOutputFileWritesWhatStdoutWouldAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := openStore(t, e, "O")
	_, tok, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(dir, name))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
		return string(data)
	}
	out := e.MustRunStatus("describe", "account", "O", "-o", filepath.Join(dir, "table"))
	mustContain(t, out, "[ OK ] wrote account description to")
	if got, want := read("table"), e.MustRun("describe", "account", "O"); got != want {
		t.Errorf("-o table:\n%s\nwant:\n%s", got, want)
	}
	// JSON and a field as nsc writes them: without the extra newline stdout gets.
	e.MustRun("describe", "account", "O", "-J", "--output-file", filepath.Join(dir, "json"))
	if got, want := read("json"), strings.TrimSuffix(e.MustRun("describe", "account", "O", "-J"), "\n"); got != want {
		t.Errorf("-J -o:\n%q\nwant:\n%q", got, want)
	}
	e.MustRun("describe", "account", "O", "-F", "sub", "-o", filepath.Join(dir, "field"))
	if got, want := read("field"), strings.TrimSuffix(e.MustRun("describe", "account", "O", "-F", "sub"), "\n"); got != want {
		t.Errorf("-F -o: %q, want %q", got, want)
	}
	// The raw JWT is armored in a file, bare on stdout.
	mustContain(t, e.MustRunStatus("describe", "account", "O", "-R", "-o", filepath.Join(dir, "jwt")), "[ OK ] wrote account jwt to")
	armored, _ := jwt.DecorateJWT(tok)
	if got := read("jwt"); got != string(armored) {
		t.Errorf("-R -o:\n%s", got)
	}
	// A relative file is in the working directory.
	e.Wd = dir
	e.MustRun("describe", "account", "O", "-R", "-o", "relative.jwt")
	if got := read("relative.jwt"); got != string(armored) {
		t.Errorf("-R -o relative.jwt:\n%s", got)
	}
	// "--" is stdout.
	if got := e.MustRun("describe", "account", "O", "-R", "-o", "--"); got != tok+"\n" {
		t.Errorf("-R -o -- = %q", got)
	}
	for _, kind := range [][]string{{"operator"}, {"user", "O", "-a", "O"}} {
		args := append([]string{"describe"}, kind...)
		e.MustRun(append(args, "-o", filepath.Join(dir, kind[0]))...)
		if got, want := read(kind[0]), e.MustRun(args...); got != want {
			t.Errorf("describe %s -o:\n%s\nwant:\n%s", kind[0], got, want)
		}
	}
	jwtFile := filepath.Join(dir, "account.jwt")
	if err := os.WriteFile(jwtFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	e.MustRun("describe", "jwt", "-f", jwtFile, "-J", "-o", filepath.Join(dir, "jwt.json"))
	if got, want := read("jwt.json"), read("json"); got != want {
		t.Errorf("describe jwt -J -o differs from describe account -J -o")
	}
}

func TestLongIDsIsAcceptedAndChangesNothingSinceSignetNeverShortensKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{{"describe", "operator"}, {"describe", "account", "O"}, {"describe", "user", "O", "-a", "O"}} {
		plain := e.MustRun(args...)
		for _, flag := range []string{"-W", "--long-ids"} {
			if got := e.MustRun(append(args, flag)...); got != plain {
				t.Errorf("%s %s changed the output:\n%s", strings.Join(args, " "), flag, got)
			}
		}
	}
	s := openStore(t, e, "O")
	ac, _, _ := s.Account("O")
	mustContain(t, e.MustRun("describe", "account", "O"), ac.Subject)
}

func TestJIsShortForJSONOnDescribeAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{
		{"describe", "operator"}, {"describe", "account", "O"}, {"describe", "user", "O", "-a", "O"},
		{"list", "operators"}, {"list", "accounts"}, {"list", "users", "-a", "O"}, {"list", "keys", "--account", "O"},
	} {
		long := e.MustRun(append(args, "--json")...)
		if short := e.MustRun(append(args, "-J")...); short != long {
			t.Errorf("%s: -J differs from --json:\n%s\n%s", strings.Join(args, " "), short, long)
		}
		if !json.Valid([]byte(long)) {
			t.Errorf("%s --json is not JSON:\n%s", strings.Join(args, " "), long)
		}
	}
	// list prints nsc's [{"name","public_key"}] with nsc's one-space indent.
	s := openStore(t, e, "O")
	oc, _, _ := s.Operator()
	if got, want := e.MustRun("list", "operators", "-J"), "[\n {\n  \"name\": \"O\",\n  \"public_key\": \""+oc.Subject+"\"\n }\n]\n"; got != want {
		t.Errorf("list operators -J = %q, want %q", got, want)
	}
}

func TestEnvFlagsSetTheCurrentStoreOperatorAndAccountAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "operator", "P")
	e.MustRun("add", "account", "PA")
	type env struct {
		StoresDir string `json:"stores_dir"`
		Operator  string `json:"operator"`
		Account   string `json:"account"`
	}
	current := func(args ...string) env {
		t.Helper()
		var v env
		decodeJSON(t, e.MustRun(append([]string{"env", "--json"}, args...)...), &v)
		return v
	}
	// -o: the operator, and its only account (nsc's default when there is one choice).
	if got := current("-o", "P"); got.Operator != "P" || got.Account != "PA" {
		t.Errorf("env -o P: %+v", got)
	}
	mustContain(t, e.MustRun("describe", "account"), "PA")
	// -o with two accounts: the account is cleared unless it is kept; -a picks one.
	if got := current("--operator", "O"); got.Operator != "O" || got.Account != "" {
		t.Errorf("env --operator O: %+v", got)
	}
	if got := current("-a", "SYS"); got.Operator != "O" || got.Account != "SYS" {
		t.Errorf("env -a SYS: %+v", got)
	}
	if got := current("-o", "O"); got.Account != "SYS" {
		t.Errorf("env -o O kept no account: %+v", got)
	}
	s := openStore(t, e, "P")
	oc, _, _ := s.Operator()
	if got := current("--operator", oc.Subject, "--account", "PA"); got.Operator != "P" || got.Account != "PA" {
		t.Errorf("env by public key: %+v", got)
	}
	// -s: another stores folder; the operator is its only one.
	other := clitest.New(t, cli.NewRootCmd)
	other.MustRun("init", "-n", "Q")
	if got := current("-s", other.StoresDir()); got.StoresDir != other.StoresDir() || got.Operator != "Q" || got.Account != "" {
		t.Errorf("env -s: %+v", got)
	}
	mustContain(t, e.MustRun("describe", "operator"), "Q")
	if got := current("--store", e.StoresDir(), "-o", "O", "-a", "O"); got.StoresDir != e.StoresDir() || got.Operator != "O" || got.Account != "O" {
		t.Errorf("env --store -o -a: %+v", got)
	}
	// A relative folder is from the working directory.
	e.Wd = filepath.Dir(other.StoresDir())
	if got := current("-s", "stores"); got.StoresDir != other.StoresDir() {
		t.Errorf("env -s stores: %+v", got)
	}
	e.Wd = e.Home
	current("-s", e.StoresDir(), "-o", "O", "-a", "O")

	// What does not exist is refused and nsc.json is left alone.
	mustContain(t, e.MustFail("env", "-o", "nope"), `operator "nope" is not in`)
	mustContain(t, e.MustFail("env", "-a", "nope"), `account "nope"`)
	notAFolder := filepath.Join(e.Home, "a-file")
	if err := os.WriteFile(notAFolder, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.MustFail("env", "-s", notAFolder), "not a folder")
	if got := current(); got.Operator != "O" || got.Account != "O" || got.StoresDir != e.StoresDir() {
		t.Errorf("after failed env: %+v", got)
	}
	// A folder that does not exist yet becomes the (empty) store root, as in nsc: the next
	// operator goes there.
	fresh := filepath.Join(e.Home, "new-stores")
	if got := current("-s", fresh); got.StoresDir != fresh || got.Operator != "" {
		t.Errorf("env -s new folder: %+v", got)
	}
	e.MustRun("add", "operator", "-n", "N")
	if _, err := os.Stat(filepath.Join(fresh, "N")); err != nil {
		t.Errorf("operator added after env -s new folder: %v", err)
	}
	current("-s", e.StoresDir(), "-o", "O", "-a", "O")
	e.Vars["NSC_CWD_ONLY"] = "1"
	mustContain(t, e.MustFail("env", "-o", "P"), "NSC_CWD_ONLY")
}
