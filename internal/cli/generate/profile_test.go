package generate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli/generate"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// nscCreds is what the nats CLI reads from `nsc generate profile nsc://...`.
type nscCreds struct {
	UserCreds string `json:"user_creds"`
	Operator  struct {
		Service []string `json:"service"`
	} `json:"operator"`
}

func TestGenerateProfileGivesTheNatsCLICredsThatConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "alice", "-a", "O")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	trust, preload := natstest.FromStore(t, s)
	ns := natstest.StartMemory(t, trust, preload)
	e.MustRun("edit", "operator", "-n", ns.ClientURL())

	r := e.Run("generate", "profile", "nsc://O/O/alice")
	if r.Error != nil {
		t.Fatalf("generate profile: %v\n%s", r.Error, r.Err)
	}
	// The nats CLI reads stdout and stderr together: stderr must stay empty.
	if r.Err != "" {
		t.Fatalf("generate profile wrote to stderr, which breaks the nats CLI's parse: %q", r.Err)
	}
	var creds nscCreds
	if err := json.Unmarshal([]byte(r.Out+r.Err), &creds); err != nil {
		t.Fatalf("profile is not JSON: %v\n%s", err, r.Out)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if want := ks.CredsPath("O", "O", "alice"); creds.UserCreds != want {
		t.Errorf("user_creds = %q, want %q", creds.UserCreds, want)
	}
	if len(creds.Operator.Service) != 1 || creds.Operator.Service[0] != ns.ClientURL() {
		t.Fatalf("operator.service = %v, want [%s]", creds.Operator.Service, ns.ClientURL())
	}
	// Connect as the nats CLI does: the service URLs joined, the creds file.
	nc, err := nats.Connect(strings.Join(creds.Operator.Service, ","), nats.UserCredentials(creds.UserCreds), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connect with the profile's creds: %v", err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("profile.check")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("profile.check", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hi" {
		t.Fatalf("round trip as alice: %v", err)
	}
	// Exactly nsc's layout: two-space indent, user_creds first, empty fields left out.
	want := "{\n  \"user_creds\": \"" + creds.UserCreds + "\",\n  \"operator\": {\n    \"service\": [\n      \"" + ns.ClientURL() + "\"\n    ]\n  }\n}\n"
	if r.Out != want {
		t.Errorf("profile:\n%s\nwant:\n%s", r.Out, want)
	}
}

func TestGenerateProfileQueryOptionsAsNsc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "alice", "-a", "O")
	e.MustRun("edit", "account", "O", "--sk", "generate")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	oc, _, _ := s.Operator()
	ac, _, _ := s.Account("O")
	uc, _, _ := s.User("O", "alice")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	seed := func(pub string) string {
		kp, err := ks.Get(pub)
		if err != nil {
			t.Fatal(err)
		}
		sd, _ := kp.Seed()
		return string(sd)
	}
	profile := func(url string) generate.Profile {
		t.Helper()
		var p generate.Profile
		if err := json.Unmarshal([]byte(e.MustRun("generate", "profile", url)), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// names and keys: every entity named.
	p := profile("nsc://O/O/alice?names&keys")
	if p.Operator.Name != "O" || p.Account.Name != "O" || p.User.Name != "alice" ||
		p.Operator.Key != oc.Subject || p.Account.Key != ac.Subject || p.User.Key != uc.Subject {
		t.Errorf("names&keys: %+v %+v %+v", p.Operator, p.Account, p.User)
	}
	if p.Operator.Seed != "" || p.Account.Seed != "" || p.User.Seed != "" {
		t.Error("seeds printed without being asked for")
	}
	// key: only the last entity named.
	p = profile("nsc://O/O?key")
	if p.Account == nil || p.Account.Key != ac.Subject || p.Operator.Key != "" || p.User != nil || p.UserCreds != "" {
		t.Errorf("nsc://O/O?key: %+v", p)
	}
	// Per-entity options, keys in any case; names by JWT name or public key, in any case.
	p = profile("nsc://" + oc.Subject + "/o/ALICE?OperatorSeed&accountSeed&userSeed&userKey")
	if p.Operator.Seed != seed(oc.Subject) || p.Account.Seed != seed(ac.Subject) || p.User.Seed != seed(uc.Subject) || p.User.Key != uc.Subject {
		t.Errorf("seeds: %+v %+v %+v", p.Operator, p.Account, p.User)
	}
	if p.UserCreds != ks.CredsPath("O", "O", "alice") {
		t.Errorf("user_creds = %q", p.UserCreds)
	}
	// accountSeed=PUB picks a signing key.
	sk := ac.SigningKeys.Keys()[0]
	if p = profile("nsc://O/O?accountSeed=" + sk); p.Account.Seed != seed(sk) {
		t.Errorf("accountSeed=%s gave %q", sk, p.Account.Seed)
	}
	// store and keystore options point elsewhere.
	moved := filepath.Join(t.TempDir(), "stores")
	if err := os.Rename(e.StoresDir(), moved); err != nil {
		t.Fatal(err)
	}
	movedKeys := filepath.Join(t.TempDir(), "keys")
	if err := os.Rename(e.KeysDir(), movedKeys); err != nil {
		t.Fatal(err)
	}
	p = profile("nsc://O/O/alice?store=" + moved + "&keystore=" + movedKeys + "&name")
	if p.User == nil || p.User.Name != "alice" || p.UserCreds != filepath.Join(movedKeys, "creds", "O", "O", "alice.creds") {
		t.Errorf("store&keystore: %+v", p)
	}
	for url, want := range map[string]string{
		"nsc://O/O/nobody?store=" + moved:   `user "nobody"`,
		"nsc://nope?store=" + moved:         `operator "nope"`,
		"nsc://O?accountKey&store=" + moved: "needs a URL that names an account",
		"http://O/O/alice":                  "not an nsc URL",
		"nsc://":                            "names no operator",
		"nsc://O/O?accountSeed=AXXX&store=" + moved + "&keystore=" + movedKeys: "neither",
	} {
		if msg := e.MustFail("generate", "profile", url); !strings.Contains(msg, want) {
			t.Errorf("%s: error %q, want %q", url, msg, want)
		}
	}
}

func TestParseNscURL(t *testing.T) {
	t.Parallel()
	u, err := generate.ParseNscURL("NSC://My%20Op/A/u?Store=/Some/Dir&seed&userSeed=UABC")
	if err != nil {
		t.Fatal(err)
	}
	if u.Operator != "My Op" || u.Account != "A" || u.User != "u" {
		t.Errorf("names: %+v", u)
	}
	// Keys in any case; values keep theirs (nsc lowercases them, which breaks paths).
	if u.Query["store"] != "/Some/Dir" || u.Query["userseed"] != "UABC" {
		t.Errorf("query: %v", u.Query)
	}
	if _, ok := u.Query["seed"]; !ok {
		t.Errorf("a key without a value is still set: %v", u.Query)
	}
	for _, bad := range []string{"nsc:/O", "nsc://", "nsc:///A", "nsc://O/A/u/x"} {
		if _, err := generate.ParseNscURL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
