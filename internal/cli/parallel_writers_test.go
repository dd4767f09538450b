package cli_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// buildSignet builds the signet binary into a temporary folder.
func buildSignet(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "signet")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/signet-dev/signet/cmd/signet")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestParallelWritersLoseNoUpdate runs 8 loops of real `signet add user` processes against one
// account and checks that every user arrived whole: no lost writes, no torn files, every
// signature valid, every key and creds file present. Eight writers at once contend for the
// lock as much with 40 users each as with 250; SIGNET_SOAK=1 runs the 250 (about two minutes
// on two cores), -short 10.
func TestParallelWritersLoseNoUpdate(t *testing.T) {
	const writers = 8
	perWriter := 40
	switch {
	case os.Getenv("SIGNET_SOAK") != "":
		perWriter = 250
	case testing.Short():
		perWriter = 10
	}
	bin := buildSignet(t)
	home := t.TempDir()
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"PATH=" + os.Getenv("PATH"),
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("signet %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("init", "-n", "O"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWriter {
				if err := run("add", "user", fmt.Sprintf("w%d-u%03d", w, j), "-a", "O"); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d processes added %d users in %v", writers, writers*perWriter, time.Since(start).Round(time.Millisecond))

	s, err := store.OpenDir(filepath.Join(home, "data", "nats", "nsc", "stores", "O"))
	if err != nil {
		t.Fatal(err)
	}
	ac, _, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	ks := keystore.KeyStore{Dir: filepath.Join(home, "data", "nats", "nsc", "keys")}
	names, err := s.UserNames("O")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"O": true} // init's own user
	for w := range writers {
		for j := range perWriter {
			want[fmt.Sprintf("w%d-u%03d", w, j)] = true
		}
	}
	if len(names) != len(want) {
		t.Errorf("%d users in the account, want %d", len(names), len(want))
	}
	entries, err := os.ReadDir(filepath.Join(s.AccountDir("O"), "users"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		t.Errorf("%d files in the users folder for %d users: temporary files left behind", len(entries), len(names))
	}
	subjects := map[string]string{}
	for _, n := range names {
		if !want[n] {
			t.Errorf("unexpected user %q", n)
			continue
		}
		delete(want, n)
		uc, tok, err := s.User("O", n) // jwt/v2 decoding verifies the signature
		if err != nil {
			t.Errorf("user %s: %v", n, err)
			continue
		}
		var vr jwt.ValidationResults
		uc.Validate(&vr)
		if uc.Name != n || uc.Issuer != ac.Subject || vr.IsBlocking(true) {
			t.Errorf("user %s: name %q issuer %s valid=%v", n, uc.Name, uc.Issuer, !vr.IsBlocking(true))
		}
		if other, dup := subjects[uc.Subject]; dup {
			t.Errorf("users %s and %s share key %s", n, other, uc.Subject)
		}
		subjects[uc.Subject] = n
		kp, err := ks.Get(uc.Subject)
		if err != nil {
			t.Errorf("user %s: %v", n, err)
			continue
		}
		creds, err := os.ReadFile(ks.CredsPath("O", "O", n))
		if err != nil {
			t.Errorf("user %s: %v", n, err)
			continue
		}
		if ct, err := jwt.ParseDecoratedJWT(creds); err != nil || ct != tok {
			t.Errorf("user %s: creds JWT differs from the stored JWT (%v)", n, err)
		}
		seed, _ := kp.Seed()
		if !strings.Contains(string(creds), string(seed)) {
			t.Errorf("user %s: creds seed differs from the keystore", n)
		}
		if got, err := s.FindUser("O", uc.Subject); err != nil || got != n {
			t.Errorf("user %s: found by key as %q (%v)", n, got, err)
		}
	}
	for n := range want {
		t.Errorf("user %s lost", n)
	}
}
