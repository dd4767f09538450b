// Package plural writes counts in English: "1 user", "3 users", "0 warnings". Every message that
// prints a count goes through it, so no message says "1 users" or "user(s)".
package plural

import "fmt"

// N is n followed by the noun: singular when n is 1, else the plural, which is the noun with an
// "s" unless given (N(2, "entry", "entries")).
func N(n int, singular string, pluralForm ...string) string {
	return fmt.Sprintf("%d %s", n, Noun(n, singular, pluralForm...))
}

// Noun is the noun alone, singular when n is 1.
func Noun(n int, singular string, pluralForm ...string) string {
	if n == 1 {
		return singular
	}
	if len(pluralForm) > 0 {
		return pluralForm[0]
	}
	return singular + "s"
}
