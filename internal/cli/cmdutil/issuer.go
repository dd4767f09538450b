package cmdutil

import (
	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
)

// OperatorIssuer describes an operator as the signer of accounts.
func OperatorIssuer(name string, oc *jwt.OperatorClaims) keystore.Issuer {
	return keystore.Issuer{
		Kind:          "operator",
		Name:          name,
		Identity:      oc.Subject,
		SigningKeys:   append([]string(nil), oc.SigningKeys...),
		RequireSigner: oc.StrictSigningKeyUsage,
	}
}

// AccountIssuer describes an account as the signer of users and activations; scoped keys are
// addressable by role.
func AccountIssuer(name string, ac *jwt.AccountClaims) keystore.Issuer {
	iss := keystore.Issuer{Kind: "account", Name: name, Identity: ac.Subject, Roles: map[string]string{}}
	for pub, scope := range ac.SigningKeys {
		iss.SigningKeys = append(iss.SigningKeys, pub)
		if us, ok := scope.(*jwt.UserScope); ok && us.Role != "" {
			iss.Roles[us.Role] = pub
		}
	}
	return iss
}
