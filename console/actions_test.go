package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-dev/signet/console"
	"github.com/signet-dev/signet/history"
)

func TestAnActionWithoutItsCSRFTokenChangesNothing(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	b.get(c.LoginPath())
	before, _ := s.AccountJWT("A")
	recs, _ := history.Read(s)
	for _, form := range []url.Values{
		{"confirm": {"yes"}},
		{"confirm": {"yes"}, "csrf": {"0000"}},
	} {
		if code, _ := b.post("/accounts/A/users/alice/revoke", form); code != http.StatusForbidden {
			t.Errorf("revoke with form %v: %d, want 403", form, code)
		}
		if code, _ := b.post("/accounts/A/limits", url.Values{"confirm": {"yes"}, "conns": {"3"}, "csrf": form["csrf"]}); code != http.StatusForbidden {
			t.Errorf("limits with form %v: %d, want 403", form, code)
		}
		if code, body := b.post("/accounts/A/users/alice/creds", form); code != http.StatusForbidden || strings.Contains(body, "SEED") {
			t.Errorf("creds with form %v: %d, want 403 and no creds", form, code)
		}
	}
	if after, _ := s.AccountJWT("A"); after != before {
		t.Error("account A changed after refused actions")
	}
	if after, _ := history.Read(s); len(after) != len(recs) {
		t.Error("the history grew after refused actions")
	}
}

func TestRevokeAsksThenRevokesAndRecordsTheSession(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	b.get(c.LoginPath())
	code, page := b.get("/accounts/A/users/alice/revoke")
	if code != http.StatusOK || !strings.Contains(page, "Revoke user alice") {
		t.Fatalf("confirmation: %d", code)
	}
	token := csrf(t, page)
	if code, _ := b.post("/accounts/A/users/alice/revoke", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
		t.Fatalf("revoke without confirm: %d, want a redirect to the confirmation", code)
	}
	uc, _, _ := s.User("A", "alice")
	if ac, _, _ := s.Account("A"); ac.IsClaimRevoked(uc) {
		t.Fatal("revoked without confirmation")
	}
	if code, _ := b.post("/accounts/A/users/alice/revoke", url.Values{"csrf": {token}, "confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if ac, _, _ := s.Account("A"); !ac.IsClaimRevoked(uc) {
		t.Fatal("alice is not revoked")
	}
	recs, _ := history.Read(s)
	last := recs[len(recs)-1]
	if last.Name != "A" || !strings.HasPrefix(last.Who, "console session ") {
		t.Errorf("last history record = %+v, want account A changed by a console session", last)
	}
	if _, page := b.get("/accounts/A/users/alice"); !strings.Contains(page, "revoked") {
		t.Error("user page does not say revoked")
	}
}

func TestReadOnlyConsoleRefusesActions(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks, ReadOnly: true})
	b := newBrowser(t, srv)
	b.get(c.LoginPath())
	_, page := b.get("/accounts/A")
	if strings.Contains(page, "Add a user") {
		t.Error("read-only account page offers actions")
	}
	if code, _ := b.get("/accounts/A/users/alice/revoke"); code != http.StatusForbidden {
		t.Errorf("revoke confirmation in a read-only console: %d", code)
	}
}
