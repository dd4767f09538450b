package authz

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func newUserLimits(t *testing.T) *jwt.UserPermissionLimits {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	return &uc.UserPermissionLimits
}

func TestUserPermApplySeedExample(t *testing.T) {
	t.Parallel()
	// nsc edit signing-key ... --allow-sub "q.>" --deny-pub ">" --allow-pub-response
	scope := jwt.NewUserScope()
	o := UserPermOptions{AllowSub: []string{"q.>"}, DenyPub: []string{">"}, AllowPubResponse: 1, AllowPubResponseSet: true}
	if !o.HasPermissionChanges() {
		t.Fatal("HasPermissionChanges = false")
	}
	changes, err := o.Apply(&scope.Template)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"set max responses to 1", `added deny pub ">"`, `added sub "q.>"`}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes = %q, want %q", changes, want)
	}
	tpl := scope.Template
	if tpl.Resp == nil || tpl.Resp.MaxMsgs != 1 || !slices.Equal(tpl.Sub.Allow, []string{"q.>"}) || !slices.Equal(tpl.Pub.Deny, []string{">"}) {
		t.Fatalf("template = %+v", tpl)
	}
	vr := jwt.ValidationResults{}
	scope.Template.Permissions.Validate(&vr)
	if !vr.IsEmpty() {
		t.Fatalf("jwt refuses result: %v", vr.Errors())
	}
}

func TestUserPermApplyAll(t *testing.T) {
	t.Parallel()
	lim := newUserLimits(t)
	yes := true
	o := UserPermOptions{
		AllowPub: []string{"b", "a"}, AllowPubSub: []string{"both.>"}, AllowSub: []string{"s.* q1"},
		DenyPub: []string{"dp"}, DenySub: []string{"ds"}, DenyPubSub: []string{"dps"},
		ResponseTTL: "5s", Bearer: &yes,
		SourceNetworks: []string{"10.0.0.0/8"}, Times: []string{"08:00:00-17:00:00"}, Locale: "UTC",
		ConnTypes: []string{"standard", "websocket"}, Subs: "10", Data: "1MiB", Payload: "1K",
	}
	changes, err := o.Apply(lim)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lim.Pub.Allow, []string{"a", "b", "both.>"}) || !slices.Equal(lim.Sub.Allow, []string{"both.>", "s.* q1"}) ||
		!slices.Equal(lim.Pub.Deny, []string{"dp", "dps"}) || !slices.Equal(lim.Sub.Deny, []string{"dps", "ds"}) {
		t.Fatalf("permissions = %+v", lim.Permissions)
	}
	if lim.Resp == nil || lim.Resp.Expires != 5*time.Second || !lim.BearerToken || lim.Locale != "UTC" ||
		!lim.Src.Contains("10.0.0.0/8") || len(lim.Times) != 1 || lim.Subs != 10 || lim.Data != 1<<20 || lim.Payload != 1000 ||
		!slices.Equal(lim.AllowedConnectionTypes, []string{"STANDARD", "WEBSOCKET"}) {
		t.Fatalf("limits = %+v", lim)
	}
	for _, want := range []string{`added pub "a"`, `added deny sub "dps"`, "set response ttl to 5s", "changed bearer to true",
		`added src network "10.0.0.0/8"`, "added time range 08:00:00-17:00:00", `added connection type "WEBSOCKET"`,
		"changed max data to 1048576 bytes"} {
		if !slices.Contains(changes, want) {
			t.Errorf("changes %q lack %q", changes, want)
		}
	}
	// Applying the same again changes nothing but the set-style values.
	again, err := o.Apply(lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if strings.HasPrefix(c, "added") {
			t.Errorf("re-apply reported %q", c)
		}
	}

	// Removals.
	rm := UserPermOptions{Rm: []string{"both.>", "dps", "missing"}, RmResponsePerms: true, RmSourceNetworks: []string{"10.0.0.0/8"},
		RmTimes: []string{"08:00:00"}, RmConnTypes: []string{"websocket"}}
	changes, err = rm.Apply(lim)
	if err != nil {
		t.Fatal(err)
	}
	if lim.Pub.Allow.Contains("both.>") || lim.Sub.Allow.Contains("both.>") || lim.Pub.Deny.Contains("dps") || lim.Sub.Deny.Contains("dps") ||
		lim.Resp != nil || len(lim.Src) != 0 || len(lim.Times) != 0 || !slices.Equal(lim.AllowedConnectionTypes, []string{"STANDARD"}) {
		t.Fatalf("after rm = %+v", lim)
	}
	for _, c := range changes {
		if strings.Contains(c, "missing") {
			t.Errorf("reported removing an absent entry: %q", c)
		}
	}
	if !slices.Contains(changes, `removed deny sub "dps"`) || !slices.Contains(changes, "removed response permissions") {
		t.Errorf("changes = %q", changes)
	}
}

func TestUserPermBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	bad := []UserPermOptions{
		{AllowPub: []string{"ok"}, DenyPub: []string{"foo bar"}},
		{AllowPub: []string{"a..b"}},
		{AllowSub: []string{"a b c"}},
		{AllowSub: []string{"a.>.b"}},
		{AllowPubSub: []string{""}},
		{AllowPub: []string{"ok"}, ResponseTTL: "soon"},
		{ResponseTTL: "-5s"},
		{AllowPubResponse: -2, AllowPubResponseSet: true},
		{AllowPub: []string{"ok"}, SourceNetworks: []string{"10.0.0.1"}},
		{Times: []string{"8-17"}},
		{RmTimes: []string{"eight"}},
		{Locale: "Nowhere/Land"},
		{ConnTypes: []string{"carrier-pigeon"}},
		{Subs: "many"},
		{Data: "1X"},
		{Payload: "-5"},
		{Rm: []string{" "}},
		{RmResponsePerms: true, AllowPubResponseSet: true, AllowPubResponse: 1},
	}
	for i, o := range bad {
		lim := newUserLimits(t)
		lim.Pub.Allow.Add("keep")
		before := copyLimits(*lim)
		if _, err := o.Apply(lim); err == nil {
			t.Errorf("case %d (%+v): no error", i, o)
		}
		if !reflect.DeepEqual(*lim, before) {
			t.Errorf("case %d: limits changed on error: %+v", i, lim)
		}
	}
	if _, err := (&UserPermOptions{}).Apply(nil); err == nil {
		t.Error("Apply(nil) accepted")
	}
}

func TestUserPermTemplatesAccepted(t *testing.T) {
	t.Parallel()
	o := UserPermOptions{AllowSub: []string{"{{account-name()}}.{{tag(team)}}.{{name()}}.>", "{{ name() }}.q grp"}, AllowPub: []string{"{{ subject() }}"}}
	lim := newUserLimits(t)
	if _, err := o.Apply(lim); err != nil {
		t.Fatalf("templates refused: %v", err)
	}
	if w := o.TemplateWarnings(); len(w) != 0 {
		t.Errorf("warnings = %q", w)
	}
	o = UserPermOptions{AllowSub: []string{"{{nmae()}}.>"}}
	if w := o.TemplateWarnings(); len(w) != 1 || !strings.Contains(w[0], "nmae()") {
		t.Errorf("warnings = %q", w)
	}
}

func TestApplyPermissionsForAccountDefaults(t *testing.T) {
	t.Parallel()
	var perms jwt.Permissions
	o := UserPermOptions{AllowPub: []string{"x"}, AllowPubResponse: 3, AllowPubResponseSet: true}
	changes, err := o.ApplyPermissions(&perms)
	if err != nil || !perms.Pub.Allow.Contains("x") || perms.Resp == nil || perms.Resp.MaxMsgs != 3 {
		t.Fatalf("ApplyPermissions = %q, %v, %+v", changes, err, perms)
	}
	yes := true
	o = UserPermOptions{AllowPub: []string{"y"}, Bearer: &yes, Subs: "1"}
	_, err = o.ApplyPermissions(&perms)
	if err == nil || !strings.Contains(err.Error(), "--bearer") || !strings.Contains(err.Error(), "--subs") {
		t.Fatalf("error = %v, want it to name --bearer and --subs", err)
	}
	if perms.Pub.Allow.Contains("y") {
		t.Fatal("permissions changed on error")
	}
	if got := o.SetFlags(); !slices.Equal(got, []string{"--allow-pub", "--bearer", "--subs"}) {
		t.Errorf("SetFlags = %q", got)
	}
}
