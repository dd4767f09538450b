package accountserver

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
)

// loadSigningKey reads an operator seed (plain or decorated) and checks that the operator trusts
// it to sign accounts.
func loadSigningKey(path string, op *jwt.OperatorClaims) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		kp, err = nkeys.FromSeed([]byte(strings.TrimSpace(string(data))))
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not an nkey seed", path)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	if !nkeys.IsValidPublicOperatorKey(pub) {
		return nil, fmt.Errorf("signing key %s: %s is not an operator key", path, pub)
	}
	if err := ops.MaySign(ops.OperatorIssuer(op.Name, op), pub); err != nil {
		return nil, fmt.Errorf("signing key %s: operator %s does not accept it as an account signer: %w", path, op.Subject, err)
	}
	return kp, nil
}

// signAccount is signing mode: a JWT the account signed itself (a new account, or an update by
// the account's own key) is re-signed with the operator signing key after the operator's policy
// is applied. selfIssuedAt is the iat the account gave it (the re-signed JWT has the time of
// signing): update takes it only if it is newer than the stored JWT, so an old self-signed JWT
// sent again cannot roll the account back.
func (s *Server) signAccount(ts *trustState, token, expectedSub string) (signed string, out *jwt.AccountClaims, selfIssuedAt int64, err error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return "", nil, 0, fmt.Errorf("not a valid account jwt: %w", err)
	}
	if expectedSub != "" && ac.Subject != expectedSub {
		return "", nil, 0, fmt.Errorf("jwt subject %s does not match account %s", ac.Subject, expectedSub)
	}
	if ac.Issuer != ac.Subject {
		return "", nil, 0, fmt.Errorf("issuer %s: neither the operator nor the account itself: %w", ac.Issuer, ErrUntrusted)
	}
	selfIssuedAt = ac.IssuedAt
	if err := admissible(ac, time.Now()); err != nil {
		return "", nil, 0, err
	}
	applyPolicy(&ac.Limits, ts.policy)
	vr := &jwt.ValidationResults{}
	ac.Validate(vr)
	if vr.IsBlocking(false) {
		return "", nil, 0, fmt.Errorf("validation failed: %v", vr.Errors())
	}
	signed, err = ac.Encode(ts.signer)
	if err != nil {
		return "", nil, 0, fmt.Errorf("sign account: %w", err)
	}
	out, err = VerifyAccountJWT(ts.op, signed, ac.Subject)
	if err != nil {
		return "", nil, 0, fmt.Errorf("re-signed account does not verify: %w", err)
	}
	s.log.Info("signed account jwt", "account", ac.Subject, "name", ac.Name)
	return signed, out, selfIssuedAt, nil
}

// applyPolicy fills unlimited limits from the defaults and caps them at the maxima.
func applyPolicy(l *jwt.OperatorLimits, pol SigningConfig) {
	fields := []struct {
		v        *int64
		def, max int64
	}{
		{&l.Conn, pol.DefaultLimits.Conns, pol.MaxLimits.Conns},
		{&l.LeafNodeConn, pol.DefaultLimits.LeafNodeConns, pol.MaxLimits.LeafNodeConns},
		{&l.Data, pol.DefaultLimits.Data, pol.MaxLimits.Data},
		{&l.Payload, pol.DefaultLimits.Payload, pol.MaxLimits.Payload},
		{&l.Subs, pol.DefaultLimits.Subscriptions, pol.MaxLimits.Subscriptions},
		{&l.Imports, pol.DefaultLimits.Imports, pol.MaxLimits.Imports},
		{&l.Exports, pol.DefaultLimits.Exports, pol.MaxLimits.Exports},
	}
	for _, f := range fields {
		if *f.v == jwt.NoLimit && f.def != 0 {
			*f.v = f.def
		}
		if f.max != 0 && (*f.v == jwt.NoLimit || *f.v > f.max) {
			*f.v = f.max
		}
	}
}
