package entity_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func TestDeleteOperatorCountsOneAccountInTheSingular(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "P")
	e.MustRun("add", "account", "only")
	if msg := e.MustFail("delete", "operator", "P"); !strings.Contains(msg, `operator "P" still has 1 account:`) {
		t.Errorf("delete operator with one account: %q", msg)
	}
}
