package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	consolecmd "github.com/signet-dev/signet/internal/cli/console"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// chromium finds Debian's chromium: without it the browser tests are skipped on a developer's
// machine (install it with `apt-get install chromium`), and fail under CI, which installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium): the browser tests are skipped")
	return ""
}

// factory is what a command of e would get, with the push hook the command tree installs.
func factory(e *clitest.Env) *cmdutil.Factory {
	f := cmdutil.NewFactory(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Getwd = func() (string, error) { return e.Wd, nil }
	cli.NewRootCmd(f)
	return f
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleInABrowserRevokesAddsAndLimitsOnARealServer clicks through the console of an
// operator whose accounts live on a full-resolver nats-server (auto-push over NATS): find an
// account, open a user, revoke it after the confirmation that names its connection, and see the
// server cut it; add a user and connect with the creds downloaded; lower the connection limit
// and see the server refuse a connection beyond it.
func TestConsoleInABrowserRevokesAddsAndLimitsOnARealServer(t *testing.T) {
	execPath := chromium(t)
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "ACME")
	e.MustRun("add", "user", "alice", "-a", "ACME")
	e.MustRun("add", "user", "bob", "-a", "ACME")
	s, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := natstest.FromStore(t, s)
	srv := natstest.StartFull(t, tr)
	url := srv.ClientURL()
	e.MustRun("edit", "operator", "--account-jwt-server-url", url, "--service-url", url, "--auto-push")
	e.MustRun("push", "-A")
	ks := keystore.KeyStore{Dir: e.KeysDir()}

	cut := make(chan struct{})
	alice, err := nats.Connect(url, nats.UserCredentials(ks.CredsPath("O", "ACME", "alice")), nats.Name("alice-laptop"),
		nats.MaxReconnects(0), nats.ClosedHandler(func(*nats.Conn) { close(cut) }))
	if err != nil {
		t.Fatalf("alice connects before the revocation: %v", err)
	}
	defer alice.Close()

	c, err := consolecmd.Start(factory(e), s, "127.0.0.1", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	base := strings.Split(c.URL, "/login")[0]

	downloads := t.TempDir()
	shots := t.TempDir()
	if os.Getenv("SIGNET_SCREENSHOTS") != "" {
		shots = filepath.Join("..", "..", "..", "docs", "img")
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // the tab belongs to ctx, not to a step's timeout
		t.Fatalf("start chromium: %v", err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage:\n%s", what, err, page)
		}
	}
	textOf := func(css string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("text of %s: %v", css, err)
		}
		return v
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("without the token nothing is shown",
		chromedp.Navigate(base+"/accounts/ACME"))
	text := textOf("body")
	if strings.Contains(text, "alice") || !strings.Contains(text, "No console session") {
		t.Fatalf("page without a session: %q", text)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatal(err)
	}
	run("log in and find the account",
		chromedp.Navigate(c.URL),
		chromedp.WaitVisible(chromedp.CSS(`input[name=q]`)),
		chromedp.SendKeys(chromedp.CSS(`header input[name=q]`), "acm\n"),
		chromedp.WaitVisible(`//h1[contains(., "ACME")]`))
	text = textOf("main")
	if !strings.Contains(text, "alice-laptop") {
		t.Errorf("account page does not list alice's live connection:\n%s", text)
	}
	screenshot("console-account.png")

	run("open alice and ask to revoke her",
		chromedp.Click(`//table[contains(@class,"users")]//a[text()="alice"]`),
		chromedp.WaitVisible(`//h1[contains(., "alice")]`),
		chromedp.Click(`//a[contains(., "Revoke")]`),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	text = textOf("main")
	if !strings.Contains(text, "It cuts these 1 live connections") || !strings.Contains(text, "alice-laptop") {
		t.Fatalf("the confirmation does not name the connection it cuts:\n%s", text)
	}
	select {
	case <-cut:
		t.Fatal("alice was cut before the confirmation")
	default:
	}
	run("confirm the revocation",
		chromedp.Click(chromedp.CSS(`#confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	text = textOf(".flash")
	if !strings.Contains(text, "Revoked user alice") || strings.Contains(text, "push failed") {
		t.Fatalf("after the revocation: %q", text)
	}
	select {
	case <-cut:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not disconnect alice after the revocation")
	}
	if nc, err := nats.Connect(url, nats.UserCredentials(ks.CredsPath("O", "ACME", "alice")), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("alice connects again after the revocation")
	}

	run("add carol and download her creds",
		chromedp.Navigate(base+"/accounts/ACME"),
		chromedp.Click(`//a[text()="Add a user"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "carol"),
		chromedp.Click(`//button[text()="Continue"]`),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		chromedp.Click(chromedp.CSS(`#confirm`)),
		chromedp.WaitVisible(`//h1[contains(., "carol")]`))
	if entries, _ := os.ReadDir(downloads); len(entries) != 0 {
		t.Fatal("creds were downloaded without a click")
	}
	run("click Download creds", chromedp.Click(`//button[text()="Download creds"]`))
	creds := filepath.Join(downloads, "carol.creds")
	until(t, "carol.creds is downloaded", func() bool {
		data, err := os.ReadFile(creds)
		return err == nil && strings.Contains(string(data), "NKEY SEED")
	})
	carol, err := nats.Connect(url, nats.UserCredentials(creds), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("carol connects with the downloaded creds: %v", err)
	}
	defer carol.Close()

	run("lower the connection limit of ACME to 1",
		chromedp.Navigate(base+"/accounts/ACME"),
		chromedp.Click(`//a[text()="Edit limits"]`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=conns]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=conns]`), "1"),
		chromedp.Click(`//button[text()="Review the change"]`),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	text = textOf("main")
	if !strings.Contains(text, "changed max connections to 1") {
		t.Fatalf("the confirmation does not say what changes:\n%s", text)
	}
	run("confirm the limit", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	until(t, "the server refuses a second connection of ACME", func() bool {
		nc, err := nats.Connect(url, nats.UserCredentials(ks.CredsPath("O", "ACME", "bob")), nats.MaxReconnects(0))
		if err != nil {
			return strings.Contains(strings.ToLower(err.Error()), "maximum account active connections")
		}
		nc.Close()
		return false
	})

	run("open the trust graph", chromedp.Navigate(base+"/graph"), chromedp.WaitVisible(chromedp.CSS(`svg`)))
	screenshot("console-graph.png")
	run("open the history", chromedp.Navigate(base+"/history"))
	text = textOf("main")
	if !strings.Contains(text, "console session") || !strings.Contains(text, "Chain verified") {
		t.Errorf("history page:\n%s", text)
	}
}
