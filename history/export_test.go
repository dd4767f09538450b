package history

import (
	"encoding/json"
	"testing"
)

// RehashedForTest encodes r with a hash recomputed over its (edited) content.
func RehashedForTest(t *testing.T, r Record) []byte {
	r.Hash = r.computeHash()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
