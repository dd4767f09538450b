package authz

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func newAccount(t *testing.T) *jwt.AccountClaims {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return jwt.NewAccountClaims(pub)
}

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

func TestAccountLimitsApply(t *testing.T) {
	t.Parallel()
	ac := newAccount(t)
	o := AccountLimitOptions{Conns: "10", LeafConns: "2", Data: "1G", Exports: "5", Imports: "-1", Payload: "1MiB",
		Subscriptions: "1K", WildcardExports: boolp(false), DisallowBearer: boolp(true)}
	changes, err := o.Apply(ac)
	if err != nil {
		t.Fatal(err)
	}
	l := ac.Limits
	if l.Conn != 10 || l.LeafNodeConn != 2 || l.Data != 1e9 || l.Exports != 5 || l.Imports != -1 || l.Payload != 1<<20 ||
		l.Subs != 1000 || l.WildcardExports || !l.DisallowBearer {
		t.Fatalf("limits = %+v", l)
	}
	want := []string{"changed max connections to 10", "changed leaf node connections to 2", "changed max data to 1000000000 bytes",
		"changed max exports to 5", "changed max imports to -1", "changed max payload size to 1048576",
		"changed max subscriptions to 1000", "changed wild card exports to false", "changed disallow bearer to true"}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes = %q", changes)
	}
	if jsLimitsSet(ac.Limits.JetStreamLimits) {
		t.Fatal("non-JetStream edit touched JetStream limits")
	}
	vr := jwt.ValidationResults{}
	ac.Validate(&vr)
	if !vr.IsEmpty() {
		t.Fatalf("jwt refuses the account: %v", vr.Errors())
	}
}

func TestAccountJetStreamGlobalAndTiers(t *testing.T) {
	t.Parallel()
	ac := newAccount(t)
	changes, err := (&AccountLimitOptions{JSMemStorage: "1G", JSDiskStorage: "10GiB", JSStreams: "5"}).Apply(ac)
	if err != nil {
		t.Fatal(err)
	}
	g := ac.Limits.JetStreamLimits
	if g.MemoryStorage != 1e9 || g.DiskStorage != 10<<30 || g.Streams != 5 || g.Consumer != -1 || g.MaxAckPending != -1 {
		t.Fatalf("global = %+v", g)
	}
	if !slices.Contains(changes, "changed global max streams to 5") {
		t.Errorf("changes = %q", changes)
	}
	// Editing one value keeps the others.
	if _, err := (&AccountLimitOptions{JSConsumer: "7", JSMaxBytesRequired: boolp(true)}).Apply(ac); err != nil {
		t.Fatal(err)
	}
	if g := ac.Limits.JetStreamLimits; g.Consumer != 7 || g.Streams != 5 || !g.MaxBytesRequired {
		t.Fatalf("global after edit = %+v", g)
	}
	// A tier cannot be added while a global limit exists.
	before := ac.Limits
	if _, err := (&AccountLimitOptions{JSTier: 3, JSDiskStorage: "1G"}).Apply(ac); err == nil || !strings.Contains(err.Error(), "global") {
		t.Fatalf("tier over global: err = %v", err)
	}
	if _, err := (&AccountLimitOptions{JSEnable: intp(0)}).Apply(ac); err == nil || !strings.Contains(err.Error(), "already enabled") {
		t.Fatalf("enable global twice: err = %v", err)
	}
	if !reflect.DeepEqual(before, ac.Limits) {
		t.Fatal("limits changed on error")
	}
	// Remove the global limit, then use tiers.
	if _, err := (&AccountLimitOptions{RmJSTier: intp(0)}).Apply(ac); err != nil || jsLimitsSet(ac.Limits.JetStreamLimits) {
		t.Fatalf("rm global: %v %+v", err, ac.Limits.JetStreamLimits)
	}
	changes, err = (&AccountLimitOptions{JSEnable: intp(1)}).Apply(ac)
	if err != nil || !slices.Equal(changes, []string{"enabled tier limit R1"}) {
		t.Fatalf("enable R1: %q %v", changes, err)
	}
	if r1 := ac.Limits.JetStreamTieredLimits["R1"]; r1.DiskStorage != -1 || r1.MemoryStorage != -1 {
		t.Fatalf("R1 = %+v", r1)
	}
	if _, err := (&AccountLimitOptions{JSTier: 3, JSDiskStorage: "5G", JSMaxAckPending: "100"}).Apply(ac); err != nil {
		t.Fatal(err)
	}
	if r3 := ac.Limits.JetStreamTieredLimits["R3"]; r3.DiskStorage != 5e9 || r3.MaxAckPending != 100 {
		t.Fatalf("R3 = %+v", r3)
	}
	if _, err := (&AccountLimitOptions{JSMemStorage: "1G"}).Apply(ac); err == nil || !strings.Contains(err.Error(), "tiered") {
		t.Fatalf("global over tiers: err = %v", err)
	}
	if _, err := (&AccountLimitOptions{RmJSTier: intp(5)}).Apply(ac); err == nil {
		t.Fatal("removing a missing tier succeeded")
	}
	if _, err := (&AccountLimitOptions{RmJSTier: intp(1)}).Apply(ac); err != nil || len(ac.Limits.JetStreamTieredLimits) != 1 {
		t.Fatalf("rm R1: %v %+v", err, ac.Limits.JetStreamTieredLimits)
	}
	changes, err = (&AccountLimitOptions{JSDisable: true}).Apply(ac)
	if err != nil || ac.Limits.JetStreamTieredLimits != nil || jsLimitsSet(ac.Limits.JetStreamLimits) {
		t.Fatalf("disable: %v %+v", err, ac.Limits)
	}
	if !slices.Equal(changes, []string{"deleted global limit", "deleted tier limit R3"}) {
		t.Errorf("disable changes = %q", changes)
	}
}

func TestAccountLimitsBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	bad := []AccountLimitOptions{
		{Conns: "10", Data: "lots"},
		{Conns: "-3"},
		{Payload: "1.5Q"},
		{JSMemStorage: "1G", JSStreams: "x"},
		{JSTier: -1, JSDiskStorage: "1G"},
		{JSEnable: intp(-1)},
		{RmJSTier: intp(-2)},
		{JSDisable: true, JSMemStorage: "1G"},
		{JSDisable: true, JSEnable: intp(0)},
		{JSEnable: intp(1), JSDiskStorage: "1G"},
		{RmJSTier: intp(0), JSStreams: "1"},
		{RmJSTier: intp(3)},
		{Conns: "5", JSTier: 2, JSEnable: intp(2)},
	}
	for i, o := range bad {
		ac := newAccount(t)
		before := ac.Limits
		if _, err := o.Apply(ac); err == nil {
			t.Errorf("case %d (%+v): no error", i, o)
		}
		if !reflect.DeepEqual(before, ac.Limits) {
			t.Errorf("case %d: limits changed on error", i)
		}
	}
	if _, err := (&AccountLimitOptions{}).Apply(nil); err == nil {
		t.Error("Apply(nil) accepted")
	}
	o := AccountLimitOptions{}
	if o.HasChanges() || o.HasJetStreamChanges() {
		t.Error("zero options report changes")
	}
	o.JSEnable = intp(0)
	if !o.HasChanges() || !o.HasJetStreamChanges() {
		t.Error("js-enable not reported")
	}
}
