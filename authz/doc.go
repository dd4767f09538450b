// Package authz holds the rules signet applies on top of github.com/nats-io/jwt/v2 claims:
// parsing and validating the values users type on the command line (sizes, dates,
// subjects, tags, time ranges, networks, connection types, locales), applying user
// permission and account limit options to claims with nsc-style status lines, and
// previewing how nats-server expands the templates of scoped signing keys.
//
// The package never prints and never imports cobra; the CLI binds its option structs to
// flags (see internal/cli/flags) and prints the status lines it returns.
//
// Every Apply function validates all of its input before it changes anything, so a bad
// value leaves the claims untouched.
package authz
