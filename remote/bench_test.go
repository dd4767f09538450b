package remote

import (
	"context"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/natstest"
)

// BenchmarkPush10kAccounts3Servers pushes 10,000 account JWTs to a cluster of three
// full-resolver servers (in-process) and waits until every server answered every update.
// Every iteration pushes 10,000 new accounts, made outside the timer: full resolvers skip the
// write of a JWT they already hold, so pushing the same JWTs again would measure less work.
// Run it with -benchtime 1x.
func BenchmarkPush10kAccounts3Servers(b *testing.B) {
	op := natstest.NewOperator(b, "O")
	servers := natstest.StartCluster(b, 3, op.Trust())
	c := dialSys(b, servers[0], op)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.Servers(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		jwts := jwtList(op.Accounts(b, 10_000))
		b.StartTimer()
		sum, err := c.PushAll(ctx, jwts, PushOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := sum.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/push")
}
