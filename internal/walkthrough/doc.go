// Package walkthrough proves that the NATS documentation's nsc walkthroughs work with signet in
// place of nsc. Its tests replay, one test per page, the commands of the pages (nsc Basics,
// Streams, Services, Signing Keys, Revocation, Managed Operators, the Memory Resolver tutorial,
// a leaf node whose remote authenticates with creds, and nsc:// creds URLs) with the same
// commands and flags, `nsc` replaced by `signet`, and check what a real nats-server embedded in
// the test enforces with the JWTs they produce: a connection accepted or refused, a publish or
// subscription denied, a request answered, a stream message delivered or not. An exit code of 0
// alone proves nothing here.
//
// The package holds only tests; this file exists for its documentation.
package walkthrough
