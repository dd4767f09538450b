package accountserver

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/signet-dev/signet/authz"
)

// ErrUntrusted is wrapped by VerifyAccountJWT when the JWT is not signed by the operator.
var ErrUntrusted = errors.New("not issued by the operator or one of its signing keys")

// verifyStored is what a JWT read from the store (a file, a bucket entry) must be to be kept
// in it: an account JWT for pub, signed by the operator key it names. Whether that key is
// trusted is not decided here but when the JWT would be served (lookup, rangeServed), against
// the trust of that moment: a JWT kept under an operator a reload stopped trusting is served
// again after a reload that trusts it.
func verifyStored(pub, token string) error {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return fmt.Errorf("not a valid account jwt: %w", err)
	}
	if ac.Subject != pub {
		return fmt.Errorf("jwt subject %s does not match account %s", ac.Subject, pub)
	}
	if !nkeys.IsValidPublicOperatorKey(ac.Issuer) {
		return fmt.Errorf("issuer %s is not an operator key: %w", ac.Issuer, ErrUntrusted)
	}
	return nil
}

// VerifyAccountJWT decodes token (checking its signature) and accepts it only if it is an
// account JWT for expectedSub (when not empty), issued by op's key or one of its signing keys
// (only the signing keys when op demands strict signing-key usage), and if validation reports
// nothing blocking. This is the check nats-server's full resolver leaves out.
func VerifyAccountJWT(op *jwt.OperatorClaims, token string, expectedSub string) (*jwt.AccountClaims, error) {
	if op == nil {
		return nil, errors.New("no operator to verify against")
	}
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, fmt.Errorf("not a valid account jwt: %w", err)
	}
	if !nkeys.IsValidPublicAccountKey(ac.Subject) {
		return nil, fmt.Errorf("subject %q is not an account public key", ac.Subject)
	}
	if expectedSub != "" && ac.Subject != expectedSub {
		return nil, fmt.Errorf("jwt subject %s does not match account %s", ac.Subject, expectedSub)
	}
	switch {
	case ac.Issuer == op.Subject:
		if op.StrictSigningKeyUsage {
			return nil, fmt.Errorf("issuer %s: operator requires issuer to be a signing key: %w", ac.Issuer, ErrUntrusted)
		}
	case op.SigningKeys.Contains(ac.Issuer):
	case ac.Issuer == ac.Subject:
		return nil, fmt.Errorf("self-signed account jwt: %w", ErrUntrusted)
	default:
		return nil, fmt.Errorf("issuer %s: %w", ac.Issuer, ErrUntrusted)
	}
	vr := &jwt.ValidationResults{}
	ac.Validate(vr)
	if vr.IsBlocking(false) {
		return nil, fmt.Errorf("validation failed: %v", vr.Errors())
	}
	return ac, nil
}

// trustsIssuer reports whether op accepts iss as the signer of what it issues (account JWTs,
// delete requests): one of its signing keys, or its own key unless it demands signing keys.
// VerifyAccountJWT says the same with reasons.
func trustsIssuer(op *jwt.OperatorClaims, iss string) bool {
	return op.SigningKeys.Contains(iss) || (iss == op.Subject && !op.StrictSigningKeyUsage)
}

// MaxClockSkew is how far ahead of this server's clock an incoming JWT's iat may be. A JWT
// issued further ahead (a signer whose clock is wrong) would make every correct update of the
// account "older" until this server's clock caught up.
const MaxClockSkew = 5 * time.Minute

// admissible holds the rules an account JWT must meet to be stored, besides trust (checked by
// VerifyAccountJWT): it is within its validity period (neither expired nor not yet valid: a JWT
// no server can use would replace one that works, as nats-account-server refused too), its
// subject mappings are ones nats-server installs, and its iat is not more than MaxClockSkew
// ahead of now.
func admissible(ac *jwt.AccountClaims, now time.Time) error {
	vr := &jwt.ValidationResults{}
	ac.Validate(vr)
	if vr.IsBlocking(true) {
		return fmt.Errorf("validation failed: %v", vr.Errors())
	}
	if err := authz.CheckAccountMappings(ac); err != nil {
		// nats-server refuses such a JWT whole (its full resolver answers "jwt validation
		// failed"): stored, it would be served to servers that cannot load it.
		return err
	}
	if ahead := time.Unix(ac.IssuedAt, 0).Sub(now); ahead > MaxClockSkew {
		return fmt.Errorf("jwt issued at %s, %s ahead of this server's clock (at most %s): check the signer's clock",
			time.Unix(ac.IssuedAt, 0).UTC().Format(time.RFC3339), ahead.Round(time.Second), MaxClockSkew)
	}
	return nil
}

// DeleteWindow bounds how long a delete request stays valid: a request without exp must have
// been issued within this window, one with exp may not be valid for longer than it.
const DeleteWindow = 5 * time.Minute

// deleteGuard verifies operator-signed delete requests and remembers their ids until they expire,
// so a captured request cannot be replayed.
type deleteGuard struct {
	mu   sync.Mutex
	seen map[string]int64 // jti -> unix time after which the request is dead anyway
}

func newDeleteGuard() *deleteGuard { return &deleteGuard{seen: make(map[string]int64)} }

// DeleteRequest is what VerifyDeleteRequest accepted.
type DeleteRequest struct {
	Accounts []string // the account keys to delete
	ID       string   // the claims' jti
	Deadline int64    // when the request dies (unix seconds): its exp, or iat + DeleteWindow
	IssuedAt int64    // its iat (0 without one)
}

// VerifyDeleteRequest checks a delete request in the form nats-server's
// $SYS.REQ.CLAIMS.DELETE takes: generic claims, self-signed by the operator key or one of its
// signing keys, with data {"accounts": [...]}. It also demands a time window: exp in the future
// and at most DeleteWindow away, or (without exp) iat within DeleteWindow of now. It returns the
// account keys, the claims' id and death time (for replay tracking) and their iat.
func VerifyDeleteRequest(op *jwt.OperatorClaims, token string, now time.Time) (DeleteRequest, error) {
	if op == nil {
		return DeleteRequest{}, errors.New("no operator to verify against")
	}
	gc, err := jwt.DecodeGeneric(token)
	if err != nil {
		return DeleteRequest{}, fmt.Errorf("not a valid delete request: %w", err)
	}
	if gc.Subject != gc.Issuer {
		return DeleteRequest{}, errors.New("delete request is not self signed")
	}
	if !trustsIssuer(op, gc.Issuer) {
		return DeleteRequest{}, fmt.Errorf("delete request issuer %s: %w", gc.Issuer, ErrUntrusted)
	}
	unix := now.Unix()
	win := int64(DeleteWindow / time.Second)
	var req DeleteRequest
	switch {
	case gc.Expires > 0:
		if gc.Expires <= unix {
			return DeleteRequest{}, errors.New("delete request expired")
		}
		if gc.Expires-unix > win {
			return DeleteRequest{}, fmt.Errorf("delete request valid for longer than %v", DeleteWindow)
		}
		req.Deadline = gc.Expires
	case gc.IssuedAt > 0:
		if gc.IssuedAt > unix+win || gc.IssuedAt < unix-win {
			return DeleteRequest{}, fmt.Errorf("delete request issued outside the %v window", DeleteWindow)
		}
		req.Deadline = gc.IssuedAt + win
	default:
		return DeleteRequest{}, errors.New("delete request carries neither exp nor iat")
	}
	if gc.ID == "" {
		return DeleteRequest{}, errors.New("delete request has no jti")
	}
	list, ok := gc.Data["accounts"].([]any)
	if !ok || len(list) == 0 {
		return DeleteRequest{}, errors.New("malformed delete request: no accounts list")
	}
	for _, e := range list {
		acc, ok := e.(string)
		if !ok || !nkeys.IsValidPublicAccountKey(acc) {
			return DeleteRequest{}, fmt.Errorf("malformed delete request: %v is not an account public key", e)
		}
		if acc == op.SystemAccount {
			return DeleteRequest{}, errors.New("not allowed to delete the system account")
		}
		req.Accounts = append(req.Accounts, acc)
	}
	req.ID, req.IssuedAt = gc.ID, gc.IssuedAt
	return req, nil
}

// admit records a delete request id; it fails if the id was seen and has not expired yet.
func (g *deleteGuard) admit(id string, deadline int64, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	unix := now.Unix()
	for k, d := range g.seen {
		if d < unix {
			delete(g.seen, k)
		}
	}
	if _, ok := g.seen[id]; ok {
		return errors.New("delete request already used (replay refused)")
	}
	g.seen[id] = deadline
	return nil
}
