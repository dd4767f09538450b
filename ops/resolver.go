package ops

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// SystemConn builds the NATS options of a system-account user: a named user's creds, or a
// short-lived user signed by a non-scoped system account key from the keystore.
func SystemConn(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, systemUser string) ([]nats.Option, error) {
	if oc.SystemAccount == "" {
		return nil, fmt.Errorf("operator %q has no system account: set one with `signet edit operator --system-account SYS`", oc.Name)
	}
	sysName, err := s.FindAccount(oc.SystemAccount)
	if err != nil {
		// The store may have lost its accounts (pull restores them): the keystore may still
		// hold the system account's key.
		if kp, kerr := ks.Get(oc.SystemAccount); kerr == nil && systemUser == "" {
			return shortLivedSystemUser(kp, oc.SystemAccount)
		}
		return nil, fmt.Errorf("system account %s is not in the store: %w", oc.SystemAccount, err)
	}
	if systemUser != "" {
		uname, err := s.FindUser(sysName, systemUser)
		if err != nil {
			return nil, fmt.Errorf("--system-user: %w", err)
		}
		uc, tok, err := s.User(sysName, uname)
		if err != nil {
			return nil, err
		}
		kp, err := ks.Get(uc.Subject)
		if err != nil {
			return nil, fmt.Errorf("--system-user %q: %w", uname, err)
		}
		seed, _ := kp.Seed()
		return []nats.Option{nats.UserJWTAndSeed(tok, string(seed))}, nil
	}
	ac, _, err := s.Account(sysName)
	if err != nil {
		return nil, err
	}
	candidates := []string{ac.Subject}
	for pub, scope := range ac.SigningKeys {
		if scope == nil {
			candidates = append(candidates, pub)
		}
	}
	for _, pub := range candidates {
		if kp, err := ks.Get(pub); err == nil {
			return shortLivedSystemUser(kp, ac.Subject)
		}
	}
	return nil, fmt.Errorf("the keystore holds no non-scoped key of system account %q: pass --system-user NAME (a user of %q with creds)", sysName, sysName)
}

func shortLivedSystemUser(signer nkeys.KeyPair, sysAccount string) ([]nats.Option, error) {
	tok, seed, err := remote.SystemUser(signer, sysAccount, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	return []nats.Option{nats.UserJWTAndSeed(tok, string(seed))}, nil
}

// DialResolver connects to the nats-servers at u as a system-account user (see SystemConn). A
// failure is a *ConnectError.
func DialResolver(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, u string, d ResolverDial) (*remote.Client, error) {
	if d.SystemAccount != "" {
		pub := d.SystemAccount
		if !nkeys.IsValidPublicAccountKey(pub) {
			name, err := s.FindAccount(pub)
			if err != nil {
				return nil, &ConnectError{URL: u, Login: true, Err: fmt.Errorf("--system-account: %w", err)}
			}
			ac, _, err := s.Account(name)
			if err != nil {
				return nil, &ConnectError{URL: u, Login: true, Err: err}
			}
			pub = ac.Subject
		}
		other := *oc
		other.SystemAccount = pub
		oc = &other
	}
	opts, err := SystemConn(s, ks, oc, d.SystemUser)
	if err != nil {
		return nil, &ConnectError{URL: u, Login: true, Err: err}
	}
	c, err := remote.Dial(u, append(opts, d.Options...)...)
	if err != nil {
		return nil, &ConnectError{URL: u, Err: err}
	}
	c.Timeout = d.Timeout
	return c, nil
}

// Refused reports whether err means that nothing listens at the address tried (the connection
// was refused), as opposed to a server that answered and said no.
func Refused(err error) bool {
	if err == nil {
		return false
	}
	// The texts cover errors that lost their errno on the way (nats.go's) and Windows, whose
	// WSAECONNREFUSED is not syscall.ECONNREFUSED.
	msg := err.Error()
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "actively refused")
}
