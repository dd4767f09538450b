package ops_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
)

func TestTrustChecksFollowTheIssuerChain(t *testing.T) {
	t.Parallel()
	op, osk := newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator)
	acc, ask, other := newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount)
	usr := newKey(t, nkeys.CreateUser)

	oc := jwt.NewOperatorClaims(op.pub)
	oc.Name = "O"
	oc.SigningKeys.Add(osk.pub)
	ac := jwt.NewAccountClaims(acc.pub)
	ac.Name = "A"
	ac.SigningKeys.Add(ask.pub)

	check := func(what string, err error, want string) {
		t.Helper()
		if want == "" && err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", what, err, want)
		}
	}
	for _, c := range []struct {
		issuer, want string
		strict       bool
	}{
		{op.pub, "", false},
		{osk.pub, "", false},
		{osk.pub, "", true},
		{op.pub, "requires signing keys", true},
		{other.pub, "not operator", false},
		{acc.pub, "not operator", false}, // self-signed
	} {
		oc.StrictSigningKeyUsage = c.strict
		a := *ac
		a.Issuer = c.issuer
		check("account issued by "+c.issuer[:6], ops.AccountIssuedBy(oc, &a), c.want)
	}
	for _, c := range []struct {
		issuer, issuerAccount, want string
		strict                      bool
	}{
		{acc.pub, "", "", false},
		{acc.pub, "", "requires signing keys", true},
		{ask.pub, acc.pub, "", true},
		{ask.pub, "", "issuer account", false},
		{acc.pub, other.pub, "names issuer account", false},
		{other.pub, acc.pub, "not account", false},
	} {
		uc := jwt.NewUserClaims(usr.pub)
		uc.Name = "u"
		uc.Issuer, uc.IssuerAccount = c.issuer, c.issuerAccount
		check("user issued by "+c.issuer[:6], ops.UserIssuedBy(ac, uc, c.strict), c.want)
	}
	self := jwt.NewOperatorClaims(op.pub)
	self.Issuer = op.pub
	check("self-signed operator", ops.OperatorSelfSigned(self), "")
	self.SigningKeys.Add(osk.pub)
	self.Issuer = osk.pub
	check("operator signed by its signing key", ops.OperatorSelfSigned(self), "")
	self.Issuer = other.pub
	check("operator signed by a stranger", ops.OperatorSelfSigned(self), "not its own key")
}
