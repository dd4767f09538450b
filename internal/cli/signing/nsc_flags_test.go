package signing_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

func TestListActivationsNarrowsToOneExportBySubjectAndKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "B")
	s := openStore(t, e)
	addExport(t, e, s, "A", &jwt.Export{Name: "svc", Subject: "x.>", Type: jwt.Service, TokenReq: true})
	addExport(t, e, s, "A", &jwt.Export{Name: "feed", Subject: "x.>", Type: jwt.Stream, TokenReq: true})
	e.MustRun("revocations", "add-activation", "-a", "A", "-s", "x.>", "--service", "-t", "B")
	e.MustRun("revocations", "add-activation", "-a", "A", "-s", "x.>", "-t", "*")
	svc := e.MustRun("revocations", "list-activations", "-a", "A", "-s", "x.>", "--service", "--json")
	stream := e.MustRun("revocations", "list_activations", "-a", "A", "--subject", "x.>", "--json")
	b := account(t, e, "B").Subject
	if !strings.Contains(svc, b) || strings.Contains(svc, `"*"`) {
		t.Errorf("list-activations -s x.> --service:\n%s", svc)
	}
	if strings.Contains(stream, b) || !strings.Contains(stream, `"*"`) {
		t.Errorf("list-activations -s x.> (the stream):\n%s", stream)
	}
}

func TestRevocationsDeleteUserByPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "U", "-a", "A")
	u, _, err := openStore(t, e).User("A", "U")
	if err != nil {
		t.Fatal(err)
	}
	e.MustRun("revocations", "add-user", "-a", "A", "--user-public-key", u.Subject)
	e.MustRun("revocations", "delete_user", "-a", "A", "-u", u.Subject)
	if _, ok := account(t, e, "A").Revocations[u.Subject]; ok {
		t.Error("delete-user -u left the revocation")
	}
}
