package plural

import "testing"

func TestCountsAreSingularOnlyForOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		got  string
		want string
	}{
		{0, N(0, "user"), "0 users"},
		{1, N(1, "user"), "1 user"},
		{2, N(2, "user"), "2 users"},
		{1, N(1, "entry", "entries"), "1 entry"},
		{3, N(3, "entry", "entries"), "3 entries"},
		{1, Noun(1, "account"), "account"},
		{-1, N(-1, "account"), "-1 accounts"},
	} {
		if tc.got != tc.want {
			t.Errorf("n=%d: got %q, want %q", tc.n, tc.got, tc.want)
		}
	}
}
