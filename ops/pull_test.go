package ops_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
)

// pullRows maps account names (public keys for refused ones) to what became of them.
func pullRows(res *ops.PullResult) map[string]string {
	out := map[string]string{}
	for _, r := range res.Rows {
		switch {
		case r.Err != nil:
			out[r.Account] = "refused: " + r.Err.Error()
		case r.Status == ops.Same:
			out[r.Name] = "same"
		case r.Status == ops.KeptNewer:
			out[r.Name] = "kept newer"
		default:
			out[r.Name] = "saved"
		}
	}
	return out
}

func TestPullStoresOnlyTheOperatorsNewerJWTs(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	as, u, stop := newAccountServer()
	defer stop()
	ctx := context.Background()
	if _, err := ops.Push(ctx, fx.s, fx.ks, ops.PushRequest{All: true, URL: u}); err != nil {
		t.Fatal(err)
	}
	// The store moves on: the server's A is now older than the local one.
	if _, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "news"}); err != nil {
		t.Fatal(err)
	}
	// The server also holds C, which this operator issued, and X, which another operator did.
	oc, _, err := fx.s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	ckp, _ := nkeys.CreateAccount()
	cpub, _ := ckp.PublicKey()
	cc := jwt.NewAccountClaims(cpub)
	cc.Name = "C"
	ctok, err := ops.SignAccount(fx.s, fx.ks, oc, cc, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := nkeys.CreateOperator()
	xkp, _ := nkeys.CreateAccount()
	xpub, _ := xkp.PublicKey()
	xc := jwt.NewAccountClaims(xpub)
	xc.Name = "X"
	xtok, err := xc.Encode(other)
	if err != nil {
		t.Fatal(err)
	}
	as.mu.Lock()
	as.jwts[cpub], as.jwts[xpub] = ctok, xtok
	as.mu.Unlock()

	res, err := ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{All: true, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	got := pullRows(res)
	if got["A"] != "kept newer" || got["C"] != "saved" || !strings.Contains(got[xpub], "not operator") || !res.Failed || len(got) != 3 {
		t.Errorf("pull: %v (failed %v)", got, res.Failed)
	}
	if fx.s.HasAccount("X") || fx.s.HasAccount(xpub) {
		t.Error("the foreign account was stored")
	}
	if len(fx.account(t, "A").Exports) != 1 {
		t.Error("the newer local A was replaced")
	}
	res, err = ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{All: true, URL: u, OverwriteNewer: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := pullRows(res); got["A"] != "saved" || got["C"] != "same" {
		t.Errorf("pull --overwrite-newer: %v", got)
	}
	if len(fx.account(t, "A").Exports) != 0 {
		t.Error("overwrite-newer kept the local A")
	}
}

func TestPullBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	ctx := context.Background()
	fx.refuses(t, "one and all", "not both", func() error {
		_, err := ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{Account: "A", All: true, URL: "http://127.0.0.1:1/jwt/v1"})
		return err
	})
	fx.refuses(t, "no URL", "no account server URL", func() error {
		_, err := ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{All: true})
		return err
	})
	fx.refuses(t, "nothing listens", "", func() error {
		_, err := ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{Account: "A", URL: "http://127.0.0.1:1/jwt/v1"})
		var ce *ops.ConnectError
		if !errors.As(err, &ce) {
			return fmt.Errorf("want a *ConnectError, got %v", err)
		}
		return err
	})
	fx.refuses(t, "a foreign JWT", "not operator", func() error {
		other, _ := nkeys.CreateOperator()
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		tok, err := jwt.NewAccountClaims(pub).Encode(other)
		if err != nil {
			return nil
		}
		_, _, err = ops.SaveTrusted(fx.s, tok, true)
		return err
	})
}

// Restore the store from an account server: every account JWT the operator issued is stored.
func ExamplePull() {
	fx, done := exampleFixture()
	defer done()
	_, u, stop := newAccountServer()
	defer stop()
	ctx := context.Background()
	if _, err := ops.Push(ctx, fx.s, fx.ks, ops.PushRequest{All: true, URL: u}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.Pull(ctx, fx.s, fx.ks, ops.PullRequest{All: true, URL: u})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r.Name, r.Status == ops.Same, r.Err)
	}
	// Output:
	// A true <nil>
}
