package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func src(name, text string) Source { return Source{Name: name, Data: []byte(text)} }

func TestOverlayMergesMapsByKeyAndLaterScalarsWin(t *testing.T) {
	t.Parallel()
	l, err := ReadFiles("testdata/base.yaml", "testdata/prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sp := l.Spec
	if got := *sp.Accounts["SHOP"].Limits.Conns; got != 1000 {
		t.Errorf("SHOP conns %d, want prod's 1000", got)
	}
	if len(sp.Accounts["SHOP"].Imports) != 2 || sp.Accounts["SHOP"].Users["web"] == nil {
		t.Errorf("SHOP lost what only base.yaml says: imports %v, users %v", sp.Accounts["SHOP"].Imports, sp.Accounts["SHOP"].Users)
	}
	tiers := sp.Accounts["ORDERS"].JetStream.Tiers
	if tiers["R1"] == nil || tiers["R3"] == nil {
		t.Fatalf("tiers %v: want base's R1 and prod's R3 merged", tiers)
	}
	if got := int64(*tiers["R3"].DiskStorage); got != 100<<30 {
		t.Errorf("R3 disk %d, want 100GiB", got)
	}
	if sp.Accounts["AUDIT"] == nil || sp.Accounts["AUDIT"].Imports[0].Type != "stream" {
		t.Errorf("AUDIT from prod.yaml missing or its import type not taken from the export: %+v", sp.Accounts["AUDIT"])
	}
	if got := *sp.Accounts["ORDERS"].Limits.Conns; got != 100 {
		t.Errorf("ORDERS conns %d, want base's 100", got)
	}
}

func TestOverlayListsReplaceAndNullRemoves(t *testing.T) {
	t.Parallel()
	base := src("base.yaml", "accounts:\n  A:\n    tags: [a, b]\n    limits: {conns: 5, subs: 10}\n")
	over := src("over.yaml", "accounts:\n  A:\n    tags: [c]\n    limits: null\n")
	l, err := Load(base, over)
	if err != nil {
		t.Fatal(err)
	}
	a := l.Spec.Accounts["A"]
	if strings.Join(a.Tags, ",") != "c" {
		t.Errorf("tags %v: a list in a later file replaces the earlier one whole", a.Tags)
	}
	if a.Limits != nil {
		t.Errorf("limits %+v: null in a later file removes the key", a.Limits)
	}
}

func TestJSONSpecIsAccepted(t *testing.T) {
	t.Parallel()
	l, err := ReadFiles("testdata/auth.json")
	if err != nil {
		t.Fatal(err)
	}
	if im := l.Spec.Accounts["B"].Imports[0]; im.Type != "service" || im.LocalSubject != "a.help" {
		t.Errorf("import %+v", im)
	}
}

func TestBadSpecsNameFileAndLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text, want string
	}{
		{"unknown field", "accounts:\n  A:\n    limits:\n      conns: 1\n      conections: 2\n", `bad.yaml:5: unknown field "conections"`},
		{"unknown top-level field", "acounts: {}\n", `bad.yaml:1: unknown field "acounts"`},
		{"import of an unknown account", "accounts:\n  B:\n    imports:\n      - account: NOPE\n        subject: x\n", `bad.yaml:4: account "B" imports "x" from "NOPE", which is not an account of the file`},
		{"unknown role", "accounts:\n  A:\n    users:\n      u:\n        signing_key: admin\n", `bad.yaml:5: user "u" is signed by role "admin", which is not a signing key of account "A"`},
		{"template that does not parse", "accounts:\n  A:\n    signing_keys:\n      svc:\n        pub: {allow: [\"{{nme()}}.x\"]}\n", `bad.yaml:5: template "{{nme()}}.x": unknown template function "nme()"`},
		{"export that does not cover the import", "accounts:\n  A:\n    exports: [{subject: \"a.*\", type: service}]\n  B:\n    imports:\n      - account: A\n        subject: b.x\n", `bad.yaml:6: account "B" imports stream or service "b.x" from "A", which exports no stream or service covering it`},
		{"stream import of a service export", "accounts:\n  A:\n    exports: [{subject: a, type: service}]\n  B:\n    imports:\n      - {account: A, subject: a, type: stream}\n", `bad.yaml:6: account "B" imports stream "a" from "A", which exports no stream covering it`},
		{"scoped user with its own permissions", "accounts:\n  A:\n    signing_keys: {svc: {}}\n    users:\n      u: {signing_key: svc, pub: {allow: [x]}}\n", `bad.yaml:5: user "u" is signed by the scoped signing key "svc"`},
		{"relative expiry", "accounts:\n  A:\n    users:\n      u: {expires: 30d}\n", `bad.yaml:4: time "30d"`},
		{"unknown system account", "system_account: SYS\naccounts: {A: {}}\n", `bad.yaml:1: system account "SYS" is not an account of the file`},
		{"bad size", "accounts:\n  A:\n    limits: {payload: 1 furlong}\n", `bad.yaml:3: invalid size "1 furlong"`},
		{"mapping over 100%", "accounts:\n  A:\n    mappings:\n      a: [{to: b, weight: 60}, {to: c, weight: 50}]\n", `bad.yaml:4: the mappings of "a" total 110%`},
		{"mapping nats-server cannot install", "accounts:\n  A:\n    mappings:\n      \"a.*\": [{to: \"b.{{wildcard(5)}}\"}]\n", `bad.yaml:4: mapping "a.*" to "b.{{wildcard(5)}}"`},
		{"bad subject", "accounts:\n  A:\n    exports: [{subject: \"a..b\"}]\n", `bad.yaml:3: export subject:`},
		{"bearer user where bearer is disallowed", "accounts:\n  A:\n    limits: {disallow_bearer: true}\n    users:\n      u: {bearer: true}\n", `bad.yaml:5: user "u" is a bearer user, and account "A" disallows bearer tokens`},
		{"private export with an account token position", "accounts:\n  A:\n    exports: [{subject: \"a.*\", type: service, token_required: true, account_token_position: 2}]\n", `bad.yaml:3: a private export (token_required) cannot have an account token position`},
		{"bearer through a scope where bearer is disallowed", "accounts:\n  A:\n    limits: {disallow_bearer: true}\n    signing_keys: {svc: {bearer: true}}\n    users:\n      u: {signing_key: svc}\n", `bad.yaml:6: user "u" is a bearer user through role "svc"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(src("bad.yaml", c.text))
			if err == nil {
				t.Fatal("the spec was accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
}

func TestErrorInOverlayNamesTheOverlay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	over := filepath.Join(dir, "prod.yaml")
	if err := os.WriteFile(over, []byte("accounts:\n  SHOP:\n    imports:\n      - account: BILLING\n        subject: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFiles("testdata/base.yaml", over)
	if err == nil || !strings.Contains(err.Error(), over+":4: ") {
		t.Fatalf("error %v: want it at %s:4", err, over)
	}
}
