package authz

// ValidatePermSubject checks one permission subject the way the permission flags do: kind is
// "publish" or "subscribe" (only subscribe permissions take a queue, "subject queue"), and
// template functions ({{name()}}...) count as one token.
func ValidatePermSubject(kind, s string, queueAllowed bool) error {
	return validatePermSubject(kind, s, queueAllowed)
}
