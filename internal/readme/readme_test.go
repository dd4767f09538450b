// Package readme tests that the README's examples work and do what the README says they do:
// every ```sh block after the two set-up commands (the Quickstart's terminal 2 first) is run, in
// order, in one shell, in a fresh environment, with `signet dev` running in the background as in
// the Quickstart's terminal 1, and the test checks their effects as they happen
// (examples_test.go, dev_test.go).
package readme

import (
	"os"
	"strings"
	"testing"
)

// shBlocks returns the bodies of the ```sh code blocks of a Markdown text.
func shBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

func TestREADMEStartsWithTheTwoSetupCommands(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(string(data))
	if len(blocks) < 2 || strings.TrimSpace(blocks[0]) != "go run ./cmd/signet dev" || strings.TrimSpace(blocks[1]) != "go test ./..." {
		t.Fatalf("the README must open with `go run ./cmd/signet dev` and `go test ./...`, got %q", blocks[:min(2, len(blocks))])
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\ngo test ./...\n") {
		t.Fatal(".ci/run does not run the README's test command")
	}
}
