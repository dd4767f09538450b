package remote

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// DeleteRequestTTL is how long a delete request made by DeleteRequest stays valid: long enough
// for a slow link, short enough that a captured request is useless later.
const DeleteRequestTTL = 2 * time.Minute

// SystemUser makes a short-lived user of the system account for talking to nats-servers.
// signer is the system account's identity key or one of its non-scoped signing keys (the
// server would apply a scoped key's permission template to the user, which is not what a tool
// talking $SYS.REQ.* wants; choosing the key is the caller's job);
// sysAccountPub is the system account's public key. The user expires after ttl (at least one
// second), and nats-server disconnects a user when its JWT expires, so ttl must cover the
// whole operation (a few minutes is a good choice for a bulk push). It returns the user JWT and the user's seed, for nats.UserJWTAndSeed.
func SystemUser(signer nkeys.KeyPair, sysAccountPub string, ttl time.Duration) (string, []byte, error) {
	if signer == nil {
		return "", nil, errors.New("system user: no signing key")
	}
	if !nkeys.IsValidPublicAccountKey(sysAccountPub) {
		return "", nil, fmt.Errorf("system user: %q is not an account public key", sysAccountPub)
	}
	spub, err := signer.PublicKey()
	if err != nil {
		return "", nil, fmt.Errorf("system user: signing key: %w", err)
	}
	if !nkeys.IsValidPublicAccountKey(spub) {
		return "", nil, fmt.Errorf("system user: signing key %s is not an account key", spub)
	}
	ukp, err := nkeys.CreateUser()
	if err != nil {
		return "", nil, fmt.Errorf("system user: %w", err)
	}
	upub, err := ukp.PublicKey()
	if err != nil {
		return "", nil, fmt.Errorf("system user: %w", err)
	}
	seed, err := ukp.Seed()
	if err != nil {
		return "", nil, fmt.Errorf("system user: %w", err)
	}
	if ttl < time.Second {
		ttl = time.Second
	}
	uc := jwt.NewUserClaims(upub)
	uc.Name = "signet-system-user"
	uc.Expires = time.Now().Add(ttl).Unix()
	if spub != sysAccountPub {
		uc.IssuerAccount = sysAccountPub
	}
	tok, err := uc.Encode(signer)
	if err != nil {
		return "", nil, fmt.Errorf("system user: sign: %w", err)
	}
	return tok, seed, nil
}

// DeleteRequest makes the request that deletes accounts from a full resolver (and from signet
// serve): generic claims issued by signer with subject = issuer and `"accounts": [pubs...]`,
// the form nats-server verifies. signer must be the operator's identity key or one of its
// signing keys. The request carries iat and an exp DeleteRequestTTL later, so a captured
// request cannot be replayed later by a server that checks them.
func DeleteRequest(signer nkeys.KeyPair, pubs []string) (string, error) {
	if signer == nil {
		return "", errors.New("delete request: no operator key")
	}
	opub, err := signer.PublicKey()
	if err != nil {
		return "", fmt.Errorf("delete request: operator key: %w", err)
	}
	if !nkeys.IsValidPublicOperatorKey(opub) {
		return "", fmt.Errorf("delete request: %s is not an operator key", opub)
	}
	if len(pubs) == 0 {
		return "", errors.New("delete request: no accounts")
	}
	list := make([]any, 0, len(pubs))
	for _, p := range pubs {
		if !nkeys.IsValidPublicAccountKey(p) {
			return "", fmt.Errorf("delete request: %q is not an account public key", p)
		}
		list = append(list, p)
	}
	gc := jwt.NewGenericClaims(opub)
	gc.Data["accounts"] = list
	gc.Expires = time.Now().Add(DeleteRequestTTL).Unix()
	tok, err := gc.Encode(signer)
	if err != nil {
		return "", fmt.Errorf("delete request: sign: %w", err)
	}
	return tok, nil
}
