// Command signet manages NATS operators, accounts, users and keys (the job of nsc) and serves
// account JWTs to NATS servers (the job of nats-account-server).
package main

import (
	"os"

	"github.com/signet-dev/signet/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
