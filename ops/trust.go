package ops

import (
	"fmt"
	"slices"

	"github.com/nats-io/jwt/v2"
)

// AccountIssuedBy checks that the operator trusts an account JWT: it was issued by the operator
// identity key or one of its signing keys, and not by the identity key when the operator requires
// signing keys (nats-server refuses such an account).
func AccountIssuedBy(oc *jwt.OperatorClaims, ac *jwt.AccountClaims) error {
	if ac.Issuer != oc.Subject && !slices.Contains(oc.SigningKeys, ac.Issuer) {
		return fmt.Errorf("account %q is issued by %s, which is not operator %q or one of its signing keys", ac.Name, ac.Issuer, oc.Name)
	}
	if oc.StrictSigningKeyUsage && ac.Issuer == oc.Subject {
		return fmt.Errorf("account %q is signed by the identity key of operator %q, which requires signing keys", ac.Name, oc.Name)
	}
	return nil
}

// UserIssuedBy checks that an account trusts a user JWT: it was issued by the account identity
// key, or by one of its signing keys with issuer_account naming the account; under an operator
// that requires signing keys (operatorStrict), only by a signing key.
func UserIssuedBy(ac *jwt.AccountClaims, uc *jwt.UserClaims, operatorStrict bool) error {
	switch {
	case uc.Issuer == ac.Subject:
		if uc.IssuerAccount != "" && uc.IssuerAccount != ac.Subject {
			return fmt.Errorf("user %q names issuer account %s but is signed by account %q", uc.Name, uc.IssuerAccount, ac.Name)
		}
		if operatorStrict {
			return fmt.Errorf("user %q is signed by the identity key of account %q, but the operator requires signing keys", uc.Name, ac.Name)
		}
	case ac.SigningKeys.Contains(uc.Issuer):
		if uc.IssuerAccount != ac.Subject {
			return fmt.Errorf("user %q is signed by a signing key of account %q but its issuer account is %q, not %s", uc.Name, ac.Name, uc.IssuerAccount, ac.Subject)
		}
	default:
		return fmt.Errorf("user %q is issued by %s, which is not account %q or one of its signing keys", uc.Name, uc.Issuer, ac.Name)
	}
	return nil
}

// OperatorSelfSigned checks that an operator JWT is signed by the operator itself: its identity
// key or one of the signing keys it lists. Nothing else can vouch for an operator.
func OperatorSelfSigned(oc *jwt.OperatorClaims) error {
	if oc.Issuer != oc.Subject && !slices.Contains(oc.SigningKeys, oc.Issuer) {
		return fmt.Errorf("operator %q is signed by %s, which is not its own key or one of its signing keys", oc.Name, oc.Issuer)
	}
	return nil
}
