package exports_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

// TestAddImportOfWhatTheSourceDoesNotExportIsAddedWithAWarning: as nsc, add import adds the
// import it is asked for, of the kind --service says, even when the exporting account does not
// export the subject (yet), exports it as the other kind, or exports it privately and no token
// is given; signet warns on stderr that the server will not honor it, and --force (which nsc's
// add import lacks, kept for signet's scripts) silences the warning. An import made before its
// export delivers once the export is added, on a real nats-server.
func TestAddImportOfWhatTheSourceDoesNotExportIsAddedWithAWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "svc", "--service")
	e.MustRun("add", "export", "-a", "A", "-s", "s")
	e.MustRun("add", "export", "-a", "A", "-s", "priv", "--private")

	for _, tc := range []struct {
		args []string
		warn string // "" is no warning
	}{
		{[]string{"--remote-subject", "not.exported"}, `account "A" does not export stream "not.exported" (yet)`},
		{[]string{"--remote-subject", "forced", "--force"}, ""},
		{[]string{"--remote-subject", "priv"}, `stream export "priv" of account "A" is private`},
		{[]string{"--remote-subject", "svc"}, `account "A" exports "svc" as a service, not a stream`},
		{[]string{"--remote-subject", "s", "--service"}, `account "A" exports "s" as a stream, not a service`},
	} {
		args := append([]string{"add", "import", "-a", "B", "--src-account", "A"}, tc.args...)
		st := e.MustRunStatus(args...)
		if tc.warn == "" && strings.Contains(st, "[WARN]") || tc.warn != "" && !strings.Contains(st, "[WARN] "+tc.warn) {
			t.Errorf("signet %s: stderr\n%s\nwant warning %q", strings.Join(args, " "), st, tc.warn)
		}
	}
	kinds := map[string]jwt.ExportType{}
	for _, im := range account(t, e, "B").Imports {
		if im.Name != string(im.Subject) || im.Token != "" {
			t.Errorf("import %+v: want it named after its subject, with no token", im)
		}
		kinds[string(im.Subject)] = im.Type
	}
	want := map[string]jwt.ExportType{"not.exported": jwt.Stream, "forced": jwt.Stream, "priv": jwt.Stream, "svc": jwt.Stream, "s": jwt.Service}
	for subj, k := range want {
		if kinds[subj] != k {
			t.Errorf("import of %q: kind %v, want %v (all imports: %v)", subj, kinds[subj], k, kinds)
		}
	}

	// The export comes later: the import made ahead of it now delivers.
	e.MustRun("add", "export", "-a", "A", "-s", "not.exported")
	ns := startServer(t, e)
	nb := connect(t, e, ns, "B")
	sub, err := nb.SubscribeSync("not.exported")
	if err != nil {
		t.Fatal(err)
	}
	if err := nb.Flush(); err != nil {
		t.Fatal(err)
	}
	na := connect(t, e, ns, "A")
	if err := na.Publish("not.exported", []byte("now")); err != nil {
		t.Fatal(err)
	}
	if err := na.Flush(); err != nil {
		t.Fatal(err)
	}
	if msg, err := sub.NextMsg(wait); err != nil || string(msg.Data) != "now" {
		t.Fatalf("B received %v, %v through the import added before the export", msg, err)
	}
}
