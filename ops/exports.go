package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
)

// ValidateAccount runs jwt/v2's validation of the whole account and returns its blocking issues
// as one error and the rest (time checks aside) as warnings. Every change to an account's
// exports, imports or mappings goes through it before the account is signed.
func ValidateAccount(ac *jwt.AccountClaims) ([]string, error) {
	vr := jwt.CreateValidationResults()
	ac.Validate(vr)
	var errs, warns []string
	for _, i := range vr.Issues {
		switch {
		case i.Blocking:
			errs = append(errs, i.Description)
		case !i.TimeCheck:
			warns = append(warns, i.Description)
		}
	}
	if len(errs) > 0 {
		return warns, errors.New(strings.Join(errs, "; "))
	}
	return warns, nil
}

// CoveringExports returns the first stream and the first service export of ac whose subject
// contains subject: what an import of subject can import from.
func CoveringExports(ac *jwt.AccountClaims, subject string) (stream, service *jwt.Export) {
	for _, e := range ac.Exports {
		if !jwt.Subject(subject).IsContainedIn(e.Subject) {
			continue
		}
		if e.IsService() && service == nil {
			service = e
		} else if e.IsStream() && stream == nil {
			stream = e
		}
	}
	return stream, service
}

// ImportKey is the subject an import is known by in the importing account.
func ImportKey(im *jwt.Import) string {
	if im.LocalSubject != "" {
		return string(im.LocalSubject)
	}
	return string(im.Subject)
}

// CheckServiceOverlap refuses a service import whose local subject overlaps another service
// import's of ac: the server could not tell which exporter a request is for.
func CheckServiceOverlap(ac *jwt.AccountClaims, local jwt.Subject) error {
	for _, im := range ac.Imports {
		if !im.IsService() {
			continue
		}
		other := jwt.Subject(ImportKey(im))
		if im.LocalSubject != "" {
			other = im.LocalSubject.ToSubject()
		}
		if local.IsContainedIn(other) || other.IsContainedIn(local) {
			return fmt.Errorf("local subject %q overlaps the service import %q (from %s): choose another --local-subject", local, ImportKey(im), im.Account)
		}
	}
	return nil
}

// Activation is what an activation token grants: account Target may import Subject from the
// export e of the exporting account, within the validity window.
type Activation struct {
	Target          string // importing account's public key
	Subject         string // the export's subject or a narrower one
	Export          *jwt.Export
	Start, Expires  int64
	OperatorStrict  bool   // the operator's strict signing-key usage
	Signer          string // -K: role, public key, seed or seed file; "" lets Signer choose
	ExportingName   string // for messages
	ExportingClaims *jwt.AccountClaims
}

// SignActivation signs an activation token with the key of the exporting account that Signer
// chooses (a signing key names the account as issuer_account).
func SignActivation(ks keystore.KeyStore, a Activation) (string, error) {
	ac := a.ExportingClaims
	kp, err := Signer(ks, AccountIssuer(a.ExportingName, ac, a.OperatorStrict), a.Signer, "")
	if err != nil {
		return "", err
	}
	act := jwt.NewActivationClaims(a.Target)
	// As nsc, the token is named after the subject it grants (an import made from it takes
	// that name), not after the export.
	act.Name = a.Subject
	act.ImportSubject = jwt.Subject(a.Subject)
	act.ImportType = a.Export.Type
	act.NotBefore = a.Start
	act.Expires = a.Expires
	if pub, _ := kp.PublicKey(); pub != ac.Subject {
		act.IssuerAccount = ac.Subject
	}
	vr := jwt.CreateValidationResults()
	act.Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return "", fmt.Errorf("activation would be invalid: %w", errors.Join(errs...))
	}
	token, err := act.Encode(kp)
	if err != nil {
		return "", fmt.Errorf("sign activation: %w", err)
	}
	return token, nil
}

// ParseResponseType reads a service export's response type: Singleton, Stream or Chunked, in any
// case.
func ParseResponseType(v string) (jwt.ResponseType, error) {
	for _, rt := range []jwt.ResponseType{jwt.ResponseTypeSingleton, jwt.ResponseTypeStream, jwt.ResponseTypeChunked} {
		if strings.EqualFold(v, string(rt)) {
			return rt, nil
		}
	}
	return "", fmt.Errorf("response type %q: use Singleton, Stream or Chunked", v)
}

// ParseSampling reads a service export's latency sampling: a percentage 1-100 ("50" or "50%")
// or "headers" (sample the requests that carry tracing headers).
func ParseSampling(v string) (jwt.SamplingRate, error) {
	if strings.EqualFold(v, "headers") {
		return jwt.Headers, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
	if err != nil || n < 1 || n > 100 {
		return 0, fmt.Errorf("sampling %q: use a percentage from 1 to 100, or 'headers'", v)
	}
	return jwt.SamplingRate(n), nil
}
