package exports_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

func TestExportTakesNscShortFlagsForPrivateAndService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help", "-r", "-p")
	ex := account(t, e, "A").Exports
	if len(ex) != 1 || ex[0].Type != jwt.Service || !ex[0].TokenReq {
		t.Fatalf("add export -r -p: %+v", ex)
	}
}

func TestEditExportServiceChangesTheTypeAsInNsc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--latency", "lat.help")
	r := e.Run("edit", "export", "-a", "A", "-s", "help", "--service=false")
	if r.Error != nil || !strings.Contains(r.Err, "[WARN] changed export type of \"help\" to stream - this will break importers") {
		t.Fatalf("edit export --service=false: %v, stderr %q", r.Error, r.Err)
	}
	ex := account(t, e, "A").Exports[0]
	if ex.Type != jwt.Stream || ex.Latency != nil || ex.ResponseType != "" {
		t.Errorf("after --service=false: %+v", ex)
	}
	e.MustRun("edit", "export", "-a", "A", "-s", "help", "-r")
	if ex := account(t, e, "A").Exports[0]; ex.Type != jwt.Service || ex.ResponseType != jwt.ResponseTypeSingleton {
		t.Errorf("after -r: %+v", ex)
	}
}

func TestEditExportRmLatencySamplingIsNscNameOfRmLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--latency", "lat.help")
	e.MustRun("edit", "export", "-a", "A", "-s", "help", "--rm-latency-sampling")
	if ex := account(t, e, "A").Exports[0]; ex.Latency != nil {
		t.Errorf("latency kept: %+v", ex.Latency)
	}
}

// TestMappingWithoutWeightLeavesItOutAsNscDoes: with no --weight, or --weight 0, the mapping
// carries no weight, as nsc writes it; jwt/v2 and nats-server read that as 100
// (TestMappingRewritesSubject shows the server sends every message there). --weight 100 is
// written as given.
func TestMappingWithoutWeightLeavesItOutAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "mapping", "-a", "A", "-f", "q", "-t", "q.v2")
	e.MustRun("add", "mapping", "-a", "A", "-f", "r", "-t", "r.v2", "--weight", "0")
	e.MustRun("add", "mapping", "-a", "A", "-f", "s", "-t", "s.v2", "--weight", "100")
	m := account(t, e, "A").Mappings
	for from, want := range map[string]uint8{"q": 0, "r": 0, "s": 100} {
		if l := m[jwt.Subject(from)]; len(l) != 1 || l[0].Weight != want || l[0].GetWeight() != 100 {
			t.Errorf("mapping of %s: %+v, want weight %d (read as 100)", from, l, want)
		}
	}
}

func TestActivationOutputDashDashIsStdoutAndPushIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--private")
	b := account(t, e, "B").Subject
	out := e.MustRun("generate", "activation", "-a", "A", "-s", "help", "-t", b, "-o", "--")
	if !strings.Contains(out, "-----BEGIN NATS ACTIVATION JWT-----") {
		t.Errorf("-o -- did not print the token:\n%s", out)
	}
	r := e.Run("generate", "activation", "-a", "A", "-s", "help", "-t", b, "--push")
	if r.Error == nil || r.Out != "" || !strings.Contains(r.Err, "[WARN] nsc's --push is not supported by signet: ") {
		t.Errorf("--push: %v, stdout %q, stderr %q", r.Error, r.Out, r.Err)
	}
}
