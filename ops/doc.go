// Package ops holds the operations every signet front end shares: the CLI, signet dev, signet
// serve's signing mode, and later auth as code and the console. It prints nothing, parses no
// flags and never reaches for the network; it works on the store, the keystore and jwt/v2
// claims.
//
// It starts with the one rule that decides which key signs an entity (Signer), and the
// signing of accounts and users that every command goes through.
package ops
