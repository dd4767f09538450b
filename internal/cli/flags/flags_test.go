package flags

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/signet-dev/signet/authz"
	"github.com/spf13/pflag"
)

// parse binds a fresh options struct with bind and parses args into it.
func parse[T any](bind func(*pflag.FlagSet, *T), args []string) (*T, error) {
	var o T
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bind(fs, &o)
	return &o, fs.Parse(args)
}

func userFlags(_ *testing.T, args ...string) (*authz.UserPermOptions, error) {
	return parse(AddUserPermFlags, args)
}

func TestUserPermFlags(t *testing.T) {
	t.Parallel()
	o, err := userFlags(t, "--allow-sub", "q.>", "--deny-pub", ">", "--allow-pub-response")
	if err != nil {
		t.Fatal(err)
	}
	if !o.AllowPubResponseSet || o.AllowPubResponse != 1 || !slices.Equal(o.AllowSub, []string{"q.>"}) || !slices.Equal(o.DenyPub, []string{">"}) {
		t.Fatalf("options = %+v", o)
	}
	if o.Bearer != nil {
		t.Error("bearer set without the flag")
	}
	o, err = userFlags(t, "--allow-pub-response=5", "--allow-pub", "a,b", "--allow-pub", "c", "--bearer",
		"--source-network", "10.0.0.0/8", "--time", "08:00:00-17:00:00", "--locale", "UTC", "--conn-type", "STANDARD,websocket",
		"--subs", "-1", "--data", "1MB", "--payload", "512K", "--response-ttl", "5s",
		"--rm", "x", "--rm-response-perms", "--rm-source-network", "1.2.3.0/24", "--rm-time", "09:00:00", "--rm-conn-type", "mqtt")
	if err != nil {
		t.Fatal(err)
	}
	if o.AllowPubResponse != 5 || !slices.Equal(o.AllowPub, []string{"a", "b", "c"}) || o.Bearer == nil || !*o.Bearer ||
		o.Data != "1MB" || o.Payload != "512K" || o.Subs != "-1" || o.ResponseTTL != "5s" || !o.RmResponsePerms ||
		len(o.ConnTypes) != 2 || o.Locale != "UTC" || len(o.RmTimes) != 1 || len(o.RmConnTypes) != 1 || len(o.RmSourceNetworks) != 1 {
		t.Fatalf("options = %+v", o)
	}
	o, err = userFlags(t, "--bearer=false", "--max-responses", "3")
	if err != nil || o.Bearer == nil || *o.Bearer || o.AllowPubResponse != 3 || !o.AllowPubResponseSet {
		t.Fatalf("options = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"--data", "1X"}, {"--payload", "lots"}, {"--subs", "-2"}, {"--allow-pub-response=many"}, {"--bearer=maybe"},
	} {
		if _, err := userFlags(t, bad...); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestAllowPubResponseZeroIsNotGiven: --allow-pub-response=0 (nsc's default) sets nothing, as
// in nsc; --max-responses 0, which nsc applies whenever it is given, sets a count of 0.
func TestAllowPubResponseZeroIsNotGiven(t *testing.T) {
	t.Parallel()
	o, err := userFlags(t, "--allow-pub-response=0")
	if err != nil || o.AllowPubResponseSet {
		t.Errorf("--allow-pub-response=0: %+v, %v", o, err)
	}
	o, err = userFlags(t, "--max-responses", "0")
	if err != nil || !o.AllowPubResponseSet || o.AllowPubResponse != 0 {
		t.Errorf("--max-responses 0: %+v, %v", o, err)
	}
}

// TestMaxResponsesSetsTheResponsePermissionWhicheverOrder: --max-responses and
// --allow-pub-response share one count, and the last one given sets it, as in nsc; whether the
// response permission is set does not depend on the order: nsc sets it whenever --max-responses
// is given, so --allow-pub-response=0 after it leaves a count of 0, not "not given".
func TestMaxResponsesSetsTheResponsePermissionWhicheverOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		set  bool
		n    int
	}{
		{[]string{"--max-responses", "5", "--allow-pub-response=0"}, true, 0},
		{[]string{"--allow-pub-response=0", "--max-responses", "5"}, true, 5},
		{[]string{"--max-responses", "5", "--allow-pub-response=3"}, true, 3},
		{[]string{"--allow-pub-response=3", "--max-responses", "5"}, true, 5},
		{[]string{"--max-responses", "5", "--allow-pub-response"}, true, 1},
		{[]string{"--max-responses=0", "--allow-pub-response=0"}, true, 0},
		{[]string{"--allow-pub-response=0", "--max-responses=0"}, true, 0},
		{[]string{"--allow-pub-response=3", "--allow-pub-response=0"}, false, 0},
	} {
		o, err := userFlags(t, tc.args...)
		if err != nil || o.AllowPubResponseSet != tc.set || o.AllowPubResponse != tc.n {
			t.Errorf("%q: set %t, count %d (%v); want set %t, count %d", tc.args, o.AllowPubResponseSet, o.AllowPubResponse, err, tc.set, tc.n)
		}
	}
}

func TestUserPermFlagsApply(t *testing.T) {
	t.Parallel()
	o, err := userFlags(t, "--allow-sub", "{{account-name()}}.{{tag(team)}}.{{name()}}.>", "--allow-pub-response")
	if err != nil {
		t.Fatal(err)
	}
	scope := jwt.NewUserScope()
	changes, err := o.Apply(&scope.Template)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changes, []string{"set max responses to 1", `added sub "{{account-name()}}.{{tag(team)}}.{{name()}}.>"`}) {
		t.Fatalf("changes = %q", changes)
	}
}

func TestSetAndDefaultFlagSets(t *testing.T) {
	t.Parallel()
	var o authz.UserPermOptions
	fs := pflag.NewFlagSet("add", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	AddUserPermSetFlags(fs, &o)
	if fs.Lookup("rm") != nil || fs.Lookup("rm-time") != nil || fs.Lookup("allow-pub") == nil || fs.Lookup("bearer") == nil {
		t.Error("add flag set has the wrong flags")
	}
	fs = pflag.NewFlagSet("account", pflag.ContinueOnError)
	AddDefaultPermFlags(fs, &o)
	AddAccountLimitFlags(fs, &authz.AccountLimitOptions{}) // no name clash with account limits
	if fs.Lookup("bearer") != nil || fs.Lookup("rm") == nil {
		t.Error("default permission flag set has the wrong flags")
	}
	if u := fs.Lookup("allow-pub").Usage; !strings.Contains(u, "default permissions") {
		t.Errorf("usage = %q", u)
	}
}

func accountFlags(_ *testing.T, args ...string) (*authz.AccountLimitOptions, error) {
	return parse(AddAccountLimitFlags, args)
}

func TestAccountLimitFlags(t *testing.T) {
	t.Parallel()
	o, err := accountFlags(t)
	if err != nil || o.HasChanges() {
		t.Fatalf("no flags: %+v %v", o, err)
	}
	o, err = accountFlags(t, "--conns", "10", "--leaf-conns", "1", "--data", "1G", "--exports", "3", "--imports", "4",
		"--payload", "1MiB", "--subscriptions", "100", "--wildcard-exports=false", "--disallow-bearer",
		"--js-tier", "3", "--js-mem-storage", "1G", "--js-disk-storage", "10G", "--js-streams", "5", "--js-consumer", "6",
		"--js-max-mem-stream", "1M", "--js-max-disk-stream", "2M", "--js-max-bytes-required", "--js-max-ack-pending", "7")
	if err != nil {
		t.Fatal(err)
	}
	if o.WildcardExports == nil || *o.WildcardExports || o.DisallowBearer == nil || !*o.DisallowBearer || o.JSTier != 3 ||
		o.JSMaxBytesRequired == nil || !*o.JSMaxBytesRequired || o.Conns != "10" || o.JSMaxAckPending != "7" {
		t.Fatalf("options = %+v", o)
	}
	ac := jwt.NewAccountClaims("AACCOUNT")
	if _, err := o.Apply(ac); err != nil {
		t.Fatal(err)
	}
	if r3 := ac.Limits.JetStreamTieredLimits["R3"]; r3.DiskStorage != 10e9 || r3.MemoryMaxStreamBytes != 1e6 || !r3.MaxBytesRequired || ac.Limits.Conn != 10 {
		t.Fatalf("limits = %+v", ac.Limits)
	}

	o, err = accountFlags(t, "--js-enable", "0")
	if err != nil || o.JSEnable == nil || *o.JSEnable != 0 {
		t.Fatalf("js-enable: %+v %v", o, err)
	}
	o, err = accountFlags(t, "--rm-js-tier", "2", "--js-disable")
	if err != nil || o.RmJSTier == nil || *o.RmJSTier != 2 || !o.JSDisable {
		t.Fatalf("rm-js-tier: %+v %v", o, err)
	}
	for _, bad := range [][]string{
		{"--conns", "many"}, {"--js-enable", "x"}, {"--js-tier", "R3"}, {"--js-disk-storage", "1.5Q"}, {"--js-mem-storage", "-2G"}, {"--wildcard-exports=perhaps"},
	} {
		if _, err := accountFlags(t, bad...); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
