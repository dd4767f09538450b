package accountserver

import (
	"fmt"
	"net/http"
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

// selfSignedClaims is signing mode's first half: the claims of a JWT the account signed itself
// (a new account, or an update by the account's own key), checked and with the operator's
// policy applied, for resign to sign once the stored JWT is known. Their IssuedAt is still the
// iat the account gave them.
func selfSignedClaims(ts *trustState, token, expectedSub string) (*jwt.AccountClaims, error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, fmt.Errorf("not a valid account jwt: %w", err)
	}
	if expectedSub != "" && ac.Subject != expectedSub {
		return nil, fmt.Errorf("jwt subject %s does not match account %s", ac.Subject, expectedSub)
	}
	if ac.Issuer != ac.Subject {
		return nil, fmt.Errorf("issuer %s: neither the operator nor the account itself: %w", ac.Issuer, ErrUntrusted)
	}
	if err := admissible(ac, time.Now()); err != nil {
		return nil, err
	}
	applyPolicy(&ac.Limits, ts.policy)
	vr := &jwt.ValidationResults{}
	ac.Validate(vr)
	if vr.IsBlocking(false) {
		return nil, fmt.Errorf("validation failed: %v", vr.Errors())
	}
	return ac, nil
}

// resign signs the claims of selfSignedClaims with the operator signing key, with an iat later
// than after (the stored JWT's, or the account's tombstone's): the server issues this JWT, so it
// keeps the rule every issuer of signet keeps, one second of its own for each version of an
// account (ops.EncodeAccountAfter; a quick second update waits for the next second).
//
// A stored iat too far ahead of the server's clock to pass within a few seconds is a conflict
// (409), as an older JWT is.
func (s *Server) resign(ts *trustState, ac *jwt.AccountClaims, after int64) (string, *jwt.AccountClaims, *updateError) {
	signed, err := ops.EncodeAccountAfter(ac, ts.signer, after)
	if err != nil {
		return "", nil, &updateError{http.StatusConflict, err}
	}
	out, err := VerifyAccountJWT(ts.op, signed, ac.Subject)
	if err != nil {
		return "", nil, &updateError{http.StatusInternalServerError, fmt.Errorf("re-signed account does not verify: %w", err)}
	}
	s.log.Info("signed account jwt", "account", ac.Subject, "name", ac.Name)
	return signed, out, nil
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
