package cmdutil_test

import (
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

func TestRelativeDateSpeaksLikeNsc(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "Now"},
		{90 * time.Second, "In 1 Minute"},
		{-5 * time.Minute, "5 Minutes Ago"},
		{3 * time.Hour, "In 3 Hours"},
		{-36 * time.Hour, "1 Day Ago"},
		{10 * day, "In 1 Week"},
		{-20 * day, "2 Weeks Ago"},
		{45 * day, "In 1 Month"},
		{200 * day, "In 6 Months"},
		{-400 * day, "1 Year Ago"},
		{500 * day, "In 1 Year"},
		{-600 * day, "2 Years Ago"},
		{3 * 365 * day, "In 3 Years"},
		{50 * 365 * day, "In A Long While"},
	} {
		ts := now.Add(c.d).Unix()
		if got := cmdutil.RelativeDate(ts, now); got != c.want {
			t.Errorf("%v: got %q, want %q", c.d, got, c.want)
		}
	}
	if got := cmdutil.RelativeDate(0, now); got != "" {
		t.Errorf("zero: %q", got)
	}
}
