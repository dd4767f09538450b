package cmdutil

import (
	"fmt"
	"strings"
	"time"
)

// relUnits are the steps of RelativeDate: below `upTo` a span is said in `unit`s (count 0 means
// the fixed text). They follow the go-humanize wording nsc prints ("3 Days Ago", "In 2 Weeks"),
// with months of 30 days and years of 360.
var relUnits = []struct {
	upTo  time.Duration
	text  string
	count time.Duration
}{
	{time.Second, "now", 0},
	{2 * time.Second, "1 second", 0},
	{time.Minute, "%d seconds", time.Second},
	{2 * time.Minute, "1 minute", 0},
	{time.Hour, "%d minutes", time.Minute},
	{2 * time.Hour, "1 hour", 0},
	{day, "%d hours", time.Hour},
	{2 * day, "1 day", 0},
	{7 * day, "%d days", day},
	{14 * day, "1 week", 0},
	{month, "%d weeks", 7 * day},
	{2 * month, "1 month", 0},
	{year, "%d months", month},
	{18 * month, "1 year", 0},
	{2 * year, "2 years", 0},
	{37 * year, "%d years", year},
}

const (
	day   = 24 * time.Hour
	month = 30 * day
	year  = 12 * month
)

// RelativeDate says when the unix time ts is relative to now, title-cased as nsc prints it:
// "3 Days Ago", "In 2 Weeks", "Now". Zero is empty.
func RelativeDate(ts int64, now time.Time) string {
	if ts == 0 {
		return ""
	}
	when := time.Unix(ts, 0)
	d := when.Sub(now)
	future := d > 0
	if !future {
		d = -d
	}
	span := "a long while"
	for _, u := range relUnits {
		if d < u.upTo {
			span = u.text
			if u.count > 0 {
				span = fmt.Sprintf(u.text, int64(d/u.count))
			}
			break
		}
	}
	switch {
	case span == "now":
		// as it is
	case future:
		span = "in " + span
	default:
		span += " ago"
	}
	return titleWords(span)
}

func titleWords(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
