package tool_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestToolLinesAreNscs: the lines scripts read from nsc's tool commands are nsc's, on the same
// streams: pub's `Published [S] : "P"`, sub's `Listening on [S] for N messages`, reply's
// `listening on [S] for N messages` and `[#N] ignoring request on [S]: no reply subject`, and
// req's `published request: [S] : 'P'` (and `request timed out`, exit 0) on stderr; req's
// `received reply: [INBOX] : 'P'` and rtt's `round trip time to [URL] = D` on stdout.
func TestToolLinesAreNscs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
	hasLine := func(what, out, want string) {
		t.Helper()
		for _, l := range lines(out) {
			if l == want {
				return
			}
		}
		t.Errorf("%s: no line %q in\n%s", what, want, out)
	}

	sub := e.start(ctx, "tool", "sub", "--max-messages", "1", "foo")
	e.waitSub(t, "foo", sub)
	r := e.Run("tool", "pub", "foo", "bar")
	if r.Error != nil || r.Err != "Published [foo] : \"bar\"\n" || r.Out != "" {
		t.Errorf("tool pub: %v, stdout %q, stderr %q", r.Error, r.Out, r.Err)
	}
	r = wait(t, sub)
	hasLine("tool sub stderr", r.Err, "Listening on [foo] for 1 messages")
	hasLine("tool sub stdout", r.Out, "[#1] received on [foo]: 'bar'")

	reply := e.start(ctx, "tool", "reply", "--max-messages", "1", "svc")
	e.waitSub(t, "svc", reply)
	r = e.Run("tool", "req", "svc", "hello")
	if r.Error != nil || r.Err != "published request: [svc] : 'hello'\n" ||
		!regexp.MustCompile(`^received reply: \[_INBOX\.\S+\] : 'hello'\n$`).MatchString(r.Out) {
		t.Errorf("tool req: %v, stdout %q, stderr %q", r.Error, r.Out, r.Err)
	}
	hasLine("tool reply stderr", wait(t, reply).Err, "listening on [svc] for 1 messages")

	// A request a subscriber takes and nobody answers: nsc prints `request timed out` and
	// exits 0 (a request nobody subscribes to is an error in both).
	quiet := e.start(ctx, "tool", "sub", "--max-messages", "1", "quiet")
	e.waitSub(t, "quiet", quiet)
	r = e.Run("tool", "req", "--timeout", "300ms", "quiet", "x")
	if r.Error != nil || r.Out != "" {
		t.Errorf("tool req that times out: %v, stdout %q, want no error and nothing on stdout", r.Error, r.Out)
	}
	hasLine("tool req stderr on a timeout", r.Err, "request timed out")
	wait(t, quiet)
	if r := e.Run("tool", "req", "--timeout", "300ms", "nobody.listens", "x"); r.Error == nil {
		t.Error("tool req with nobody subscribed: no error")
	}

	reply = e.start(ctx, "tool", "reply", "--max-messages", "1", "noreply")
	e.waitSub(t, "noreply", reply)
	e.MustRun("tool", "pub", "noreply", "x")
	r = wait(t, reply)
	hasLine("tool reply stderr", r.Err, "[#1] ignoring request on [noreply]: no reply subject")
	if r.Out != "" {
		t.Errorf("tool reply printed a message it did not answer: %q", r.Out)
	}

	out := e.MustRun("tool", "rtt")
	if !regexp.MustCompile(`^round trip time to \[` + regexp.QuoteMeta(e.ns.ClientURL()) + `\] = \S+\n$`).MatchString(out) {
		t.Errorf("tool rtt: %q", out)
	}
}
