package keystore

import (
	"errors"
)

// ErrMissingKey is returned (wrapped) when no usable seed is available.
var ErrMissingKey = errors.New("missing private key")
