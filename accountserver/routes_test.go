package accountserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/natstest"
)

// Paths nats-account-server has no route for answer 404, not the help text: a client with a
// typo in its URL learns so, instead of reading 200 as success. The help text stays on
// /jwt/v1/help, its one route there.
func TestUnknownPathsAreNotFound(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s := startServer(t, testConfig(t, op))
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	base := "http://" + s.HTTPAddr()
	for _, path := range []string{
		"/jwt/v1/accounts/" + pub + "/",
		"/jwt/v1/accounts/" + pub + "/extra",
		"/jwt/v1/activations/x",
		"/jwt/v1/activations",
		"/jwt/v1/foo",
		"/jwt/v1/",
		"/jwt/v1",
		"/jwt/v1/help/",
		"/",
	} {
		code, body := request(t, http.MethodGet, base+path, "")
		if code != http.StatusNotFound || strings.Contains(body, "/jwt/v1/accounts/<pub>") {
			t.Errorf("GET %s: %d, help text %v; want 404 without it", path, code, strings.Contains(body, "<pub>"))
		}
	}
	if code, body := request(t, http.MethodGet, base+"/jwt/v1/help", ""); code != http.StatusOK || !strings.Contains(body, "/jwt/v1/accounts/<pub>") {
		t.Errorf("GET /jwt/v1/help: %d %q", code, body)
	}
	for _, path := range []string{"/jwt/v1/accounts/", "/jwt/v1/accounts", "/jwt/v1/accounts/" + pub} {
		if code, _ := request(t, http.MethodGet, base+path, ""); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, code)
		}
	}
}
