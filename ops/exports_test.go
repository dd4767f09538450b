package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
)

func ptr[T any](v T) *T { return &v }

// withB adds account B to the fixture and returns its public key.
func (fx *fixture) withB(t *testing.T) string {
	t.Helper()
	res, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"})
	if err != nil {
		t.Fatal(err)
	}
	return res.PublicKey
}

func TestAddEditDeleteExport(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	res, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "help.>", Service: true,
		ExportFields: ops.ExportFields{Private: ptr(true), ResponseType: ptr("stream")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0], `added private service export "help.>"`) {
		t.Errorf("changes: %q", res.Changes)
	}
	ac := fx.account(t, "A")
	if len(ac.Exports) != 1 || !ac.Exports[0].TokenReq || ac.Exports[0].ResponseType != jwt.ResponseTypeStream {
		t.Fatalf("export not stored as asked: %+v", ac.Exports)
	}
	fx.refuses(t, "add the same export", "already exports", func() error {
		_, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "help.>", Service: true})
		return err
	})
	fx.refuses(t, "latency on a stream", "applies only to service exports", func() error {
		_, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "news", ExportFields: ops.ExportFields{Latency: ptr("lat")}})
		return err
	})
	fx.refuses(t, "bad subject", "--subject", func() error {
		_, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "a..b"})
		return err
	})

	res, err = ops.EditExport(fx.s, fx.ks, ops.EditExportRequest{Account: "A", Subject: "help.>", Service: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "break importers") {
		t.Errorf("warnings: %q", res.Warnings)
	}
	if e := fx.account(t, "A").Exports[0]; e.Type != jwt.Stream || e.ResponseType != "" {
		t.Errorf("export not made a stream: %+v", e)
	}
	fx.refuses(t, "edit nothing", "nothing to edit", func() error {
		_, err := ops.EditExport(fx.s, fx.ks, ops.EditExportRequest{Account: "A", Subject: "help.>"})
		return err
	})
	fx.refuses(t, "edit a missing export", "no export with subject", func() error {
		_, err := ops.EditExport(fx.s, fx.ks, ops.EditExportRequest{Account: "A", Subject: "nope", ExportFields: ops.ExportFields{Advertise: ptr(true)}})
		return err
	})

	fx.refuses(t, "delete a missing export", "no export with subject", func() error {
		_, err := ops.DeleteExport(fx.s, fx.ks, ops.DeleteExportRequest{Account: "A", Subject: "nope"})
		return err
	})
	if _, err := ops.DeleteExport(fx.s, fx.ks, ops.DeleteExportRequest{Account: "A", Subject: "help.>"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.account(t, "A").Exports); n != 0 {
		t.Errorf("%d exports left", n)
	}
}

func TestAddDeleteImport(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	fx.withB(t)
	if _, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "news.>"}); err != nil {
		t.Fatal(err)
	}
	// As nsc, an import of what A does not export (yet) is added, with a warning.
	res, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", SrcAccount: "A", RemoteSubject: "other"})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `does not export stream "other" (yet)`) {
		t.Fatalf("import of what A does not export: %+v, %v", res, err)
	}
	if _, err := ops.DeleteImport(fx.s, fx.ks, ops.DeleteImportRequest{Account: "B", Subject: "other"}); err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "import from itself", "cannot import from itself", func() error {
		_, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "A", SrcAccount: "A", RemoteSubject: "news.x"})
		return err
	})
	fx.refuses(t, "neither source nor token", "give --src-account", func() error {
		_, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B"})
		return err
	})
	res, err = ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", SrcAccount: "A", RemoteSubject: "news.>", LocalSubject: "a.news.>"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0], `added stream import "news.>" from account "A"`) {
		t.Errorf("changes: %q", res.Changes)
	}
	if im := fx.account(t, "B").Imports; len(im) != 1 || im[0].LocalSubject != "a.news.>" {
		t.Fatalf("import not stored: %+v", im)
	}
	fx.refuses(t, "delete a missing import", "no import with subject", func() error {
		_, err := ops.DeleteImport(fx.s, fx.ks, ops.DeleteImportRequest{Account: "B", Subject: "nope"})
		return err
	})
	if _, err := ops.DeleteImport(fx.s, fx.ks, ops.DeleteImportRequest{Account: "B", Subject: "a.news.>"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.account(t, "B").Imports); n != 0 {
		t.Errorf("%d imports left", n)
	}
}

func TestActivationImportAndRevocation(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	bPub := fx.withB(t)
	if _, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "help", Service: true, ExportFields: ops.ExportFields{Private: ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	// As nsc, a private export is imported without a token too, with a warning.
	imp, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", SrcAccount: "A", RemoteSubject: "help", Service: true})
	if err != nil || len(imp.Warnings) != 1 || !strings.Contains(imp.Warnings[0], "is private") {
		t.Fatalf("import of a private export without a token: %+v, %v", imp, err)
	}
	if _, err := ops.DeleteImport(fx.s, fx.ks, ops.DeleteImportRequest{Account: "B", Subject: "help"}); err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "activation for the exporter itself", "needs no activation", func() error {
		_, err := ops.GenerateActivation(fx.s, fx.ks, ops.GenerateActivationRequest{Account: "A", Target: "A", Subject: "help"})
		return err
	})
	act, err := ops.GenerateActivation(fx.s, fx.ks, ops.GenerateActivationRequest{Account: "A", Target: "B", Subject: "help"})
	if err != nil {
		t.Fatal(err)
	}
	if act.Target != bPub || act.TargetLabel() != `"B"` || act.Export.Type != jwt.Service {
		t.Errorf("activation: %+v", act)
	}
	// A token for another account is refused.
	fx.refuses(t, "token for B used by A", "cannot import from itself", func() error {
		_, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "A", Token: act.Token})
		return err
	})
	if _, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", Token: act.Token, TokenSource: "act.jwt"}); err != nil {
		t.Fatal(err)
	}
	if im := fx.account(t, "B").Imports; len(im) != 1 || im[0].Token != act.Token || im[0].Type != jwt.Service {
		t.Fatalf("import not stored with its token: %+v", im)
	}

	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := ops.RevokeActivation(fx.s, fx.ks, ops.ActivationRevocationRequest{Account: "A", Target: "B", Subject: "help", Service: true, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if e := fx.account(t, "A").Exports[0]; e.Revocations[bPub] != at.Unix() || len(res.Changes) != 1 {
		t.Errorf("revocation not stored: %+v, %q", e.Revocations, res.Changes)
	}
	fx.refuses(t, "revocation of a stream that is a service", "add --service", func() error {
		_, err := ops.RevokeActivation(fx.s, fx.ks, ops.ActivationRevocationRequest{Account: "A", Target: "B", Subject: "help"})
		return err
	})
	if _, err := ops.ClearActivationRevocation(fx.s, fx.ks, ops.ActivationRevocationRequest{Account: "A", Target: "B", Service: true}); err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "clear a revocation twice", "is not revoked", func() error {
		_, err := ops.ClearActivationRevocation(fx.s, fx.ks, ops.ActivationRevocationRequest{Account: "A", Target: "B", Service: true})
		return err
	})
}

// An activation token must be signed by the exporting account, or one of its signing keys, even
// when that account does not export the subject (yet), where the import is otherwise added with
// a warning: a forged token is refused and changes nothing.
func TestForgedActivationTokenIsRefusedWhereTheExportIsMissing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	bPub := fx.withB(t)
	act := jwt.NewActivationClaims(bPub)
	act.ImportSubject = "not.exported"
	act.ImportType = jwt.Service
	act.IssuerAccount = fx.account(t, "A").Subject
	forger, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := act.Encode(forger)
	if err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "a token the exporter did not sign", "neither the key nor a signing key", func() error {
		_, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", Token: tok})
		return err
	})
}
