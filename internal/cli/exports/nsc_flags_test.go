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

func TestMappingWeightZeroIsNscDefaultOfHundred(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "mapping", "-a", "A", "-f", "q", "-t", "q.v2", "--weight", "0")
	if m := account(t, e, "A").Mappings["q"]; len(m) != 1 || m[0].Weight != 100 {
		t.Errorf("mapping: %+v", m)
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
