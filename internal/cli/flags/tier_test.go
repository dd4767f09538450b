package flags

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/authz"
)

func TestJSEnableAndRmJSTierMinusOneMeanNoChangeAsInNsc(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--js-enable", "--rm-js-tier"} {
		o, err := accountFlags(t, flag, "-1")
		if err != nil {
			t.Fatalf("%s -1: %v", flag, err)
		}
		if o.JSEnable != nil || o.RmJSTier != nil || o.HasChanges() {
			t.Errorf("%s -1 is a change: %+v", flag, o)
		}
		if o, err = accountFlags(t, flag, "2"); err != nil || (o.JSEnable == nil && o.RmJSTier == nil) {
			t.Errorf("%s 2: %+v %v", flag, o, err)
		}
	}
	// The help shows nsc's default.
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddAccountLimitFlags(fs, &authz.AccountLimitOptions{})
	if d := fs.Lookup("js-enable").DefValue; d != "-1" {
		t.Errorf("js-enable default = %q, want -1", d)
	}
}
