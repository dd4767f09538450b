package tool_test

import (
	"context"
	"strings"
	"testing"
)

// TestReplyWithoutMessageEchoesTheRequest: `tool reply SUBJECT` with no MESSAGE answers each
// request with its own payload, as nsc does; an empty MESSAGE ("") answers with an
// empty body, as in nsc.
func TestReplyWithoutMessageEchoesTheRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		subject string
		args    []string
		want    string
	}{
		{"echo", nil, "'hello'"},
		{"empty", []string{""}, "''"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		done := e.start(ctx, append([]string{"tool", "reply", tc.subject}, append(tc.args, "--max", "1")...)...)
		e.waitSub(t, tc.subject, done)
		out := e.MustRun("tool", "req", tc.subject, "hello")
		if !strings.HasSuffix(strings.TrimSpace(out), tc.want) {
			t.Errorf("tool reply %s %q: the requester got %q, want a reply %s", tc.subject, tc.args, out, tc.want)
		}
		if r := wait(t, done); r.Error != nil {
			t.Errorf("tool reply %s: %v\n%s", tc.subject, r.Error, r.Err)
		}
		cancel()
	}
}
