// Package shellquote quotes words for a POSIX shell, so that a hint that shows a command (`signet
// edit account 'my team' --sk generate`) can be pasted back as it is, whatever the names in it.
// It lives outside internal/cli because ops writes hints too: every hint, in the commands and in
// ops, quotes with it.
package shellquote

import "strings"

// Quote returns s as one shell word: unchanged when it holds only characters no shell treats
// specially, else in single quotes (a single quote inside ends them, is escaped with a backslash,
// and starts them again). The empty string is a pair of single quotes.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

// unsafe reports whether a shell may read r as more than itself: spaces, quotes, globs,
// redirections, variables, history expansion, and anything outside ASCII's plain characters.
func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("_-.,/:@%+=", r)
}
