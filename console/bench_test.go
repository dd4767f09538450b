package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/console"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// bigStore is an operator with accounts accounts (each importing a service from the one before)
// and users users in account BIG. User JWTs are written as files, as nsc lays them out: saving
// 100,000 users one fsync at a time would be the benchmark of the disk, not of the console.
func bigStore(b *testing.B, accounts, users int) *store.Store {
	b.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	otok, _ := oc.Encode(okp)
	s, err := (store.Stores{Dir: b.TempDir()}).Create("O", otok, false)
	if err != nil {
		b.Fatal(err)
	}
	var prev string
	var bigKP nkeys.KeyPair
	for i := 0; i < accounts; i++ {
		akp, _ := nkeys.CreateAccount()
		apub, _ := akp.PublicKey()
		name := fmt.Sprintf("acct-%04d", i)
		if i == 0 {
			name, bigKP = "BIG", akp
		}
		ac := jwt.NewAccountClaims(apub)
		ac.Name = name
		ac.Exports.Add(&jwt.Export{Name: "svc", Subject: jwt.Subject("svc." + name + ".>"), Type: jwt.Service})
		if prev != "" {
			ac.Imports.Add(&jwt.Import{Name: "up", Account: prev, Subject: jwt.Subject("svc.*.>"), Type: jwt.Service})
		}
		tok, err := ac.Encode(okp)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(s.AccountDir(name), "users"), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(s.AccountPath(name), []byte(tok), 0o644); err != nil {
			b.Fatal(err)
		}
		prev = apub
	}
	bigPub, _ := bigKP.PublicKey()
	for i := 0; i < users; i++ {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		uc := jwt.NewUserClaims(upub)
		uc.Name = fmt.Sprintf("user-%06d", i)
		uc.IssuerAccount = ""
		tok, err := uc.Encode(bigKP)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(s.UserPath("BIG", uc.Name), []byte(tok), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	_ = bigPub
	return s
}

// BenchmarkPages renders each page of an operator with 1,000 accounts, one of them with 100,000
// users. The first render of a page reads the store; later ones find the decoded accounts and
// the user lists in the console's cache (a stat per file shown).
func BenchmarkPages(b *testing.B) {
	s := bigStore(b, 1000, 100000)
	c, err := console.New(console.Options{Store: s, KeyStore: keystore.KeyStore{Dir: b.TempDir()}})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.LoginPath(), nil))
	cookie := rec.Result().Cookies()[0]
	for _, page := range []string{
		"/", "/accounts", "/accounts?q=acct-09", "/accounts?page=10",
		"/accounts/BIG", "/accounts/BIG?page=1500", "/accounts/BIG?q=user-0999",
		"/accounts/BIG/users/user-054321", "/accounts/acct-0500",
		"/graph", "/graph?account=BIG", "/graph?account=acct-0500", "/history",
	} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
