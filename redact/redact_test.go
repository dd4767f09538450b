package redact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/redact"
)

func TestSeedsAreRedactedWhereverTheyAppear(t *testing.T) {
	t.Parallel()
	for _, create := range []func() (nkeys.KeyPair, error){nkeys.CreateOperator, nkeys.CreateAccount, nkeys.CreateUser, nkeys.CreateCurveKeys} {
		kp, err := create()
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		pub, _ := kp.PublicKey()
		for _, text := range []string{string(seed), `-K: "` + string(seed) + `/x" is not a file`, "user " + string(seed) + " not found",
			"TEST" + string(seed), "S" + string(seed), "KEYS" + string(seed) + "XYZ", string(seed) + string(seed)} {
			got := redact.Seeds(text)
			if strings.Contains(got, string(seed[2:])) || !strings.Contains(got, "(redacted)") {
				t.Errorf("seed not redacted: %q", got)
			}
		}
		if got := redact.Seeds("key " + pub); got != "key "+pub {
			t.Errorf("a public key was changed: %q", got)
		}
	}
	notASeed := "S" + strings.Repeat("A", 57)
	if got := redact.Seeds(notASeed); got != notASeed {
		t.Errorf("text that only looks like a seed was changed: %q", got)
	}
}

func TestLogLinesCarryNoSeed(t *testing.T) {
	t.Parallel()
	kp, _ := nkeys.CreateAccount()
	seed, _ := kp.Seed()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: redact.LogAttr}))
	log.Error("bad key "+string(seed), "value", string(seed), "err", errors.New("parse "+string(seed)))
	if strings.Contains(buf.String(), string(seed)) {
		t.Errorf("log line shows the seed: %s", buf.String())
	}
	if strings.Count(buf.String(), "(redacted)") != 3 {
		t.Errorf("want message, value and error redacted: %s", buf.String())
	}
}

func TestURLsShowNoPasswordOrToken(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nats://bob:s3cret@h:4222":      "nats://bob:xxxxx@h:4222",
		"nats://a:p1@h1,nats://b:p2@h2": "nats://a:xxxxx@h1,nats://b:xxxxx@h2",
		"nats://s3cret@h:4222":          "nats://xxxxx@h:4222",
		"nats://h:4222":                 "nats://h:4222",
		"nats://bob:s3cret%zz@h:4222":   "(unparsable url with credentials)",
		"bob:s3cret@h:4222":             "bob:xxxxx@h:4222",
		"bob:s3cret@[h:4222":            "(unparsable url with credentials)",
		"h:4222":                        "h:4222",
		"tls://bob:s3cret@[::1]:4222/":  "tls://bob:xxxxx@[::1]:4222/",
	} {
		if got := redact.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redact.URLs([]string{"nats://a:s3cret@h1:4222", "nats://h2:4222"}); got != "nats://a:xxxxx@h1:4222,nats://h2:4222" {
		t.Errorf("URLs: %q", got)
	}
}

// TestLoggerRedactsWhatReachesItsHandler: a logger wrapped by Logger hands its handler no seed,
// wherever the seed is: message, attribute, error, a list, a group, attributes added with With,
// a group name. Wrapping it again returns it as it is.
func TestLoggerRedactsWhatReachesItsHandler(t *testing.T) {
	t.Parallel()
	kp, _ := nkeys.CreateUser()
	raw, _ := kp.Seed()
	seed := string(raw)
	var buf bytes.Buffer
	log := redact.Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
	log.With("with", "w "+seed).WithGroup("g"+seed).Info("msg "+seed,
		"value", seed, "err", errors.New("parse "+seed), "list", []string{seed},
		slog.Group("grp", "inner", seed))
	if strings.Contains(buf.String(), seed[2:]) {
		t.Errorf("the handler got the seed: %s", buf.String())
	}
	if n := strings.Count(buf.String(), "(redacted)"); n != 7 {
		t.Errorf("want 7 places redacted, got %d: %s", n, buf.String())
	}
	if again := redact.Logger(log); again != log {
		t.Error("Logger wrapped a logger it made again")
	}
}
