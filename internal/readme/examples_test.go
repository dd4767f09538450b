//go:build unix

package readme

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	// The test runs a signet binary it builds; importing the command tree makes Go's test cache
	// notice when the code behind that binary changes.
	_ "github.com/signet-dev/signet/internal/cli"
)

// TestREADMEExamples runs the README's example blocks, as written, in one bash in a fresh
// environment, while `signet dev` runs in the background on its default ports, as it does in the
// Quickstart's terminal 1 (the built binary, started before the script and stopped after it), so
// the examples meet what a reader's do: the dev operator selected, ports 4222 and 9090 taken. It
// checks what they did rather than only that they exited 0 (bash runs with -e, so every
// command's exit status is checked too):
//
//   - the Quickstart's terminal 2, literally: the background `tool sub` receives what `tool pub`
//     sends; alice's creds connect before her revocation, and after it her open connection is
//     closed by the server and a new one refused, and `tool pub --creds alice.creds` says she is
//     revoked; account SHOP is served by dev's account server and its users connect right after
//     `add account SHOP`; and `tool pub -a APP` still works once alice, the account's first
//     user by name, is revoked;
//   - no example outside the Quickstart uses dev's account server port (9090): the serve section
//     runs on its own port while dev runs;
//   - while the README's `signet serve` still runs (a checkpoint just before its `kill $SERVE`),
//     the server serves account A with the limit the README edited and pushed (conns 50) and with
//     bob's revocation, and it is the JWT the store holds;
//   - the README's `push -A --diff`, which runs after the edit was pushed, reports every account
//     in sync; a local edit that was not pushed makes --diff report A as an update, the others as
//     in sync, and --diff changes nothing on the server (--diff names the accounts push would
//     change and how, not the fields that differ, so the conns change shows as A's "update");
//   - `describe account A -F nats.limits.conn` prints the limit `add account` set,
//     `describe user pam` shows the expanded template subject, `revocations list-users` lists
//     bob, and bob.creds is private (0600) and holds bob's JWT and bob's seed and no other seed;
//   - every `signet validate` of the README finds nothing to warn about.
func TestREADMEExamples(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, b := range shBlocks(string(data)) {
		if strings.HasPrefix(strings.TrimSpace(b), "go ") {
			continue // the set-up commands and terminal 1: run by CI, by the dev test, and below
		}
		blocks = append(blocks, b)
	}
	if len(blocks) < 5 {
		t.Fatalf("found only %d example blocks in the README", len(blocks))
	}
	script := strings.Join(blocks, "\n")

	sb := newSandbox(t)
	dev := startDev(t, sb) // the Quickstart's terminal 1
	for _, taken := range []string{"127.0.0.1:9090", dev.httpAddr} {
		if strings.Contains(script, taken) {
			t.Fatalf("a README example uses %s, where `signet dev` (the Quickstart's terminal 1) runs its account server: "+
				"read top to bottom, it fails with \"address in use\" or talks to dev", taken)
		}
	}
	// The serve section's port, as written when it is free here; another one otherwise.
	port := "9091"
	if !portFree("127.0.0.1:" + port) {
		port = freePort(t)
		t.Logf("127.0.0.1:9091 is taken on this machine: the README's signet serve runs on %s instead", port)
		script = strings.ReplaceAll(script, "127.0.0.1:9091", "127.0.0.1:"+port)
	}
	url := "http://127.0.0.1:" + port + "/jwt/v1"
	for _, cp := range []struct {
		line, name string
		after      bool
	}{
		{"signet tool pub -a APP hello world", "pubsub", true},
		{"signet revocations add-user -a APP -n alice", "before-revocation", false},
		{"signet revocations add-user -a APP -n alice", "after-revocation", true},
		{"signet add account SHOP", "shop", true},
		// The serve block ends by killing the server: stop there and look at it first.
		{"kill $SERVE", "serve", false},
	} {
		if script, err = insertCheckpoint(script, cp.line, cp.name, cp.after); err != nil {
			t.Fatal(err)
		}
	}

	run := startScript(t, sb, script)
	var facts *storeFacts
	var alice *watchedConn
	reached := map[string]bool{}
	for {
		name, ok := run.next()
		if !ok {
			break
		}
		reached[name] = true
		switch name {
		case "pubsub":
			// The sub was started in the background before the pub: it prints and exits.
			waitForOutput(t, run.transcript, "[#1] received on [hello]: 'world'",
				"the Quickstart's `signet tool sub -a APP hello --max 1 &` did not receive what `signet tool pub -a APP hello world` sent")
		case "before-revocation":
			alice = connectCreds(t, dev.natsURL, filepath.Join(sb.home, "alice.creds"))
		case "after-revocation":
			alice.waitClosed(t, "the Quickstart says alice is disconnected by `signet revocations add-user -a APP -n alice`")
			refused(t, dev.natsURL, filepath.Join(sb.home, "alice.creds"))
			// The account's own commands go on working: tool picks a user that can connect.
			sb.signet(t, nil, "tool", "pub", "-a", "APP", "hello", "again")
		case "shop":
			checkLive(t, sb, dev, "SHOP")
		case "serve":
			facts = checkServe(t, sb, url)
		default:
			t.Fatalf("unknown checkpoint %q", name)
		}
		run.resume()
	}
	if run.err != nil {
		t.Fatalf("README examples failed: %v (the transcript below ends with the failing command)", run.err)
	}
	for _, name := range []string{"pubsub", "before-revocation", "after-revocation", "shop", "serve"} {
		if !reached[name] {
			t.Fatalf("the script never reached checkpoint %q", name)
		}
	}
	dev.stop(t)
	out, err := os.ReadFile(run.transcript)
	if err != nil {
		t.Fatal(err)
	}
	tr := string(out)

	// The Quickstart ran against dev: SHOP was pushed to dev's account server, and alice's last
	// publish was refused with the reason the store knows.
	if o := outputOf(t, tr, "signet add account SHOP"); !strings.Contains(o, "pushed account \"SHOP\" to "+dev.accountServer) {
		t.Errorf("`signet add account SHOP` while dev runs should push SHOP to %s, got:\n%s", dev.accountServer, o)
	}
	if o := outputOf(t, tr, "signet tool pub --creds alice.creds hello bye"); !strings.Contains(o, `user "alice" is revoked by account "APP"`) {
		t.Errorf("`signet tool pub --creds alice.creds` after the revocation should fail saying alice is revoked, got:\n%s", o)
	}

	// push -A --diff right after push -a A: nothing left to push.
	diffOut := outputOf(t, tr, "signet push -A --diff -u "+url)
	got := diffTable(diffOut)
	for name, pub := range facts.accounts {
		if got[pub] != "same" {
			t.Errorf("the README's `signet push -A --diff` runs after `signet push -a A`, so it should report account %q (%s) as \"same\", got %q:\n%s", name, pub, got[pub], diffOut)
		}
	}
	if len(got) != len(facts.accounts) {
		t.Errorf("the README's `signet push -A --diff` lists %d accounts, the store has %d:\n%s", len(got), len(facts.accounts), diffOut)
	}

	// The first block: add account --conns 100 shows in describe -F.
	if o := outputOf(t, tr, "signet describe account A -F nats.limits.conn"); !hasLine(o, "100") {
		t.Errorf("`signet describe account A -F nats.limits.conn` after `add account A --conns 100` should print 100, got:\n%s", o)
	}
	if !strings.Contains(tr, `added user "bob" to account "A"`) {
		t.Errorf("the README's `add user bob` did not report %q", `added user "bob" to account "A"`)
	}

	// Templates: the README promises the effective subject.
	if o := outputOf(t, tr, "signet describe user pam -a sales"); !strings.Contains(o, "sales.support.pam.>") {
		t.Errorf("`signet describe user pam -a sales` should show the effective subject sales.support.pam.>, got:\n%s", o)
	}

	// Revocations: list-users names bob, by key and name, on one row.
	o := outputOf(t, tr, "signet revocations list-users -a A")
	if !slices.ContainsFunc(strings.Split(o, "\n"), func(l string) bool {
		return strings.Contains(l, facts.bob) && strings.Contains(l, "bob")
	}) {
		t.Errorf("`signet revocations list-users -a A` should list bob (%s), got:\n%s", facts.bob, o)
	}

	checkBobCreds(t, filepath.Join(sb.home, "bob.creds"), facts.bob)
	// `signet validate` exiting 0 is checked by bash -e; what it says is checked here.
	for _, cmd := range []string{"signet validate", "signet validate -A"} {
		o := outputOf(t, tr, cmd)
		if strings.Contains(o, "[WARN]") || strings.Contains(o, "Validation Issues") || !strings.Contains(o, "no warnings") {
			t.Errorf("the README's `%s` should find nothing to warn about, got:\n%s", cmd, o)
		}
	}
}

// storeFacts is what the checks after the script need to know about the store it built.
type storeFacts struct {
	accounts map[string]string // name -> public key
	bob      string            // bob's public key
}

// checkServe runs while the README's signet serve is up, after its push, edit, push -a, diff
// and pull: it checks what the server serves, then makes a local edit that is not pushed to see
// --diff report it, and puts the store back as the README left it.
func checkServe(t *testing.T, sb *sandbox, url string) *storeFacts {
	var list []struct {
		Name      string `json:"name"`
		PublicKey string `json:"public_key"`
	}
	decodeJSON(t, sb.signet(t, nil, "list", "accounts", "--json"), &list)
	facts := &storeFacts{accounts: map[string]string{}}
	for _, a := range list {
		facts.accounts[a.Name] = a.PublicKey
	}
	aPub := facts.accounts["A"]
	if aPub == "" {
		t.Fatalf("`signet list accounts --json` has no account A: %+v", list)
	}
	var bob jwt.UserClaims
	decodeJSON(t, sb.signet(t, nil, "describe", "user", "bob", "-a", "A", "--json"), &bob)
	facts.bob = bob.Subject
	if !nkeys.IsValidPublicUserKey(facts.bob) {
		t.Fatalf("`signet describe user bob -a A --json` gave no user key: %q", facts.bob)
	}

	served, ac := fetchAccount(t, url, aPub)
	if ac.Limits.Conn != 50 {
		t.Errorf("signet serve holds account A with conns=%d; the README ran `signet edit account A --conns 50` and `signet push -a A`, so it should be 50", ac.Limits.Conn)
	}
	if _, ok := ac.Revocations[facts.bob]; !ok {
		t.Errorf("signet serve holds account A without bob's revocation (%s); the README ran `signet revocations add-user -a A -n bob` before pushing. Revocations: %v", facts.bob, ac.Revocations)
	}
	if creds, err := os.ReadFile(filepath.Join(sb.home, "bob.creds")); err != nil {
		t.Error(err)
	} else if tok, err := jwt.ParseDecoratedJWT(creds); err != nil {
		t.Errorf("bob.creds: %v", err)
	} else if uc, err := jwt.DecodeUserClaims(tok); err != nil {
		t.Errorf("bob.creds: %v", err)
	} else if !ac.IsClaimRevoked(uc) {
		t.Errorf("the account JWT signet serve holds does not revoke the JWT in bob.creds (issued at %d); revocations: %v", uc.IssuedAt, ac.Revocations)
	}
	if local := strings.TrimSpace(sb.signet(t, nil, "describe", "account", "A", "--raw")); local != served {
		t.Errorf("after push and pull the store's JWT of A differs from the one signet serve holds:\nlocal:  %s\nserved: %s", local, served)
	}

	// A local edit that was not pushed: --diff must single out A and change nothing.
	noPush := []string{"SIGNET_NO_PUSH=1"}
	sb.signet(t, noPush, "edit", "account", "A", "--conns", "51")
	var rep struct {
		Diff []struct {
			Account string `json:"account"`
			Action  string `json:"action"`
		} `json:"diff"`
	}
	diffJSON := sb.signet(t, nil, "push", "-A", "--diff", "--json", "-u", url)
	decodeJSON(t, diffJSON, &rep)
	actions := map[string]string{}
	for _, d := range rep.Diff {
		actions[d.Account] = d.Action
	}
	for name, pub := range facts.accounts {
		want := "same"
		if name == "A" {
			want = "update"
		}
		if actions[pub] != want {
			t.Errorf("after a local `edit account A --conns 51` that was not pushed, `push -A --diff` should report account %q as %q, got %q:\n%s", name, want, actions[pub], diffJSON)
		}
	}
	if after, ac := fetchAccount(t, url, aPub); after != served {
		t.Errorf("`push -A --diff` changed what signet serve holds for A (now conns=%d): --diff must change nothing", ac.Limits.Conn)
	}
	// Back to what the README left: the server's JWT.
	sb.signet(t, noPush, "pull", "-a", "A", "--overwrite-newer", "-u", url)
	if local := strings.TrimSpace(sb.signet(t, nil, "describe", "account", "A", "--raw")); local != served {
		t.Errorf("`pull -a A --overwrite-newer` did not restore the server's JWT of A:\nlocal:  %s\nserved: %s", local, served)
	}
	return facts
}

// fetchAccount GETs an account JWT from the account server and decodes it.
func fetchAccount(t *testing.T, url, pub string) (string, *jwt.AccountClaims) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url + "/accounts/" + pub)
	if err != nil {
		t.Fatalf("GET account %s from signet serve: %v", pub, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET account %s: %v", pub, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET account %s from signet serve: %s: %s", pub, resp.Status, body)
	}
	tok := strings.TrimSpace(string(body))
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		t.Fatalf("signet serve answered GET account %s with something that is not an account JWT: %v\n%s", pub, err, tok)
	}
	if ac.Subject != pub {
		t.Fatalf("signet serve answered GET account %s with the JWT of %s", pub, ac.Subject)
	}
	return tok, ac
}

// seedLike matches anything shaped like an nkey seed (checked with nkeys afterwards).
var seedLike = regexp.MustCompile(`S[A-Z][A-Z2-7]{56}`)

// checkBobCreds checks the file `generate creds -o bob.creds` wrote: private, bob's JWT, and
// bob's seed as the only seed.
func checkBobCreds(t *testing.T, path, bob string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Errorf("`signet generate creds -a A -n bob -o bob.creds` left no file: %v", err)
		return
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("bob.creds has mode %04o, want 0600: it holds a seed", perm)
	}
	creds, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		t.Fatalf("bob.creds: %v", err)
	}
	if uc, err := jwt.DecodeUserClaims(tok); err != nil || uc.Subject != bob {
		t.Errorf("bob.creds does not hold bob's JWT (%s): %v", bob, err)
	}
	var seeds []string
	for _, m := range seedLike.FindAllString(string(creds), -1) {
		kp, err := nkeys.FromSeed([]byte(m))
		if err != nil {
			continue
		}
		pub, _ := kp.PublicKey()
		seeds = append(seeds, pub)
	}
	if len(seeds) != 1 || seeds[0] != bob {
		t.Errorf("bob.creds should hold exactly one seed, bob's (%s); it holds seeds of %v", bob, seeds)
	}
}

// sandbox is a fresh home with its own nsc folders and a signet binary built from this tree.
type sandbox struct {
	home string
	bin  string // folder of the signet binary
	env  []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "signet"), "github.com/signet-dev/signet/cmd/signet")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build signet: %v\n%s", err, out)
	}
	home := t.TempDir()
	return &sandbox{home: home, bin: bin, env: append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NKEYS_PATH=", "NSC_HOME=", "SIGNET_NO_PUSH=",
	)}
}

// signet runs one signet command in the sandbox (with extra environment variables) and returns
// its stdout; a failure ends the test.
func (sb *sandbox) signet(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(sb.bin, "signet"), args...)
	cmd.Dir = sb.home
	cmd.Env = append(slices.Clone(sb.env), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func decodeJSON(t *testing.T, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, text)
	}
}

// The script's prelude. Trace lines carry a marker no program prints, so the transcript can be
// cut into each command's output. readme_checkpoint NAME tells the test (fd 3) that the script
// reached NAME and waits (fd 4) until the test has looked.
const (
	traceMarker = "+[readme] "
	prelude     = `PS4='` + traceMarker + `'
readme_checkpoint() { echo "$1" >&3; local reply; read -r reply <&4; [ "$reply" = continue ]; }
set -x
`
)

// insertCheckpoint puts `readme_checkpoint name` before (or after) the one line of script that
// starts with line (the README's comments after a command may change).
func insertCheckpoint(script, line, name string, after bool) (string, error) {
	lines := strings.Split(script, "\n")
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), line) {
			if at >= 0 {
				return "", fmt.Errorf("the README has more than one line starting with %q: which one does checkpoint %q follow?", line, name)
			}
			at = i
		}
	}
	if at < 0 {
		return "", fmt.Errorf("the README has no line starting with %q: the test checks its effects there (checkpoint %q)", line, name)
	}
	if after {
		at++
	}
	lines = slices.Insert(lines, at, "readme_checkpoint "+name)
	return strings.Join(lines, "\n"), nil
}

// scriptRun is the README script running in bash, in its own process group (signet serve runs
// in the background; whatever the script leaves running is killed with the group).
type scriptRun struct {
	transcript  string // file with stdout and stderr of every command, in order
	checkpoints chan string
	resumeW     *os.File
	done        chan error
	err         error // the script's exit error, once next returned false
}

func startScript(t *testing.T, sb *sandbox, script string) *scriptRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	r := &scriptRun{transcript: filepath.Join(t.TempDir(), "transcript"), checkpoints: make(chan string, 1), done: make(chan error, 1)}
	out, err := os.OpenFile(r.transcript, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cpR, cpW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resumeR, resumeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.resumeW = resumeW
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", prelude+script)
	cmd.Dir = sb.home
	cmd.Env = sb.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{cpW, resumeR} // fd 3, fd 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cpW.Close()
	resumeR.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		resumeW.Close()
		cpR.Close()
		if t.Failed() {
			b, _ := os.ReadFile(r.transcript)
			t.Logf("transcript of the README script:\n%s", b)
		}
	})
	go func() {
		sc := bufio.NewScanner(cpR)
		for sc.Scan() {
			r.checkpoints <- sc.Text()
		}
		close(r.checkpoints)
	}()
	go func() {
		err := cmd.Wait()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		r.done <- err
	}()
	return r
}

// next waits for the next checkpoint; it returns false once the script has exited (r.err says
// how).
func (r *scriptRun) next() (string, bool) {
	for {
		select {
		case name, ok := <-r.checkpoints:
			if ok {
				return name, true
			}
			r.checkpoints = nil // every writer is gone: only the exit is left to wait for
		case r.err = <-r.done:
			return "", false
		}
	}
}

// resume lets the script go on from its checkpoint.
func (r *scriptRun) resume() {
	// The script is blocked reading fd 4: it cannot have gone away without the test.
	_, _ = io.WriteString(r.resumeW, "continue\n")
}

// outputOf returns what one command of the script printed (stdout and stderr, plus whatever a
// background process printed meanwhile): the transcript lines after the command's trace line,
// up to the next trace line. The command must have run exactly once.
func outputOf(t *testing.T, transcript, command string) string {
	t.Helper()
	lines := strings.Split(transcript, "\n")
	var found []string
	for i, l := range lines {
		if l != traceMarker+command {
			continue
		}
		j := i + 1
		for j < len(lines) && !isTrace(lines[j]) {
			j++
		}
		found = append(found, strings.Join(lines[i+1:j], "\n"))
	}
	if len(found) != 1 {
		t.Fatalf("the README script ran `%s` %d times, want once: the README changed, adapt the test", command, len(found))
	}
	return found[0]
}

func isTrace(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, "+"), strings.TrimPrefix(traceMarker, "+"))
}

func hasLine(text, want string) bool {
	return slices.ContainsFunc(strings.Split(text, "\n"), func(l string) bool { return strings.TrimSpace(l) == want })
}

// diffTable reads the table `push --diff` prints: account public key -> action.
func diffTable(text string) map[string]string {
	rows := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		cells := strings.Split(l, "│")
		if len(cells) != 5 {
			continue
		}
		pub, action := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[3])
		if nkeys.IsValidPublicAccountKey(pub) {
			rows[pub] = action
		}
	}
	return rows
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
