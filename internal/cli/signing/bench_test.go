package signing_test

import (
	"fmt"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// BenchmarkRotateAccountSigningKey measures one rotation of a scoped account signing key that
// signed 200 users: every user is re-signed and its creds file rewritten.
func BenchmarkRotateAccountSigningKey(b *testing.B) {
	const users = 200
	for b.Loop() {
		b.StopTimer()
		e := clitest.New(b, cli.NewRootCmd)
		e.MustRun("add", "operator", "O")
		e.MustRun("add", "account", "A")
		e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub", "x")
		for i := range users {
			e.MustRun("add", "user", fmt.Sprintf("U%d", i), "-a", "A", "-K", "svc")
		}
		b.StartTimer()
		e.MustRun("rotate", "signing-key", "-a", "A", "--old", "svc")
	}
	b.ReportMetric(float64(users), "users/op")
}
