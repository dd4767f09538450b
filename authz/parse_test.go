package authz

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	good := map[string]int64{
		"0": 0, "1024": 1024, "-1": -1, " 42 ": 42,
		"1K": 1000, "1k": 1000, "1KB": 1000, "1kb": 1000, "512K": 512000,
		"1KiB": 1024, "1ki": 1024, "1M": 1000000, "1MB": 1000000, "1MiB": 1 << 20,
		"2G": 2e9, "2GB": 2e9, "2GiB": 2 << 30, "1T": 1e12, "1TB": 1e12, "1TiB": 1 << 40,
		"10B": 10, "3 MB": 3000000,
		// As nsc (go-humanize): fractions, thousands separators, P and E units.
		"1.5M": 1500000, "1.5G": 1500000000, "1,000": 1000, "1PB": 1e15, "1EB": 1e18, "1PiB": 1 << 50,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := []string{"", " ", "-2", "-1K", "-1.5", "1X", "1KIBB", "MB", "K1", "1e3",
		"99999999999999999999", "9223372036854775807K", "10000000T", "0x10", "1 2"}
	for _, in := range bad {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want error", in, got)
		}
	}
}

func TestParseExpiryAndStart(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)
	good := map[string]time.Time{
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"2025-06-01T10:00:00Z":      time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
		"2025-06-01T10:00:00+02:00": time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC),
		"30d":                       now.AddDate(0, 0, 30),
		"2w":                        now.AddDate(0, 0, 14),
		"12h":                       now.Add(12 * time.Hour),
		"15m":                       now.Add(15 * time.Minute),
		"90s":                       now.Add(90 * time.Second),
		"1y":                        now.AddDate(1, 0, 0),
		"1M":                        now.AddDate(0, 1, 0),
		"2020-01-01":                time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for in, want := range good {
		for name, f := range map[string]func(string, time.Time) (int64, error){"expiry": ParseExpiry, "start": ParseStart} {
			got, err := f(in, now)
			if err != nil || got != want.Unix() {
				t.Errorf("%s(%q) = %d, %v; want %d", name, in, got, err, want.Unix())
			}
		}
	}
	if v, err := ParseExpiry("0", now); err != nil || v != 0 {
		t.Errorf("ParseExpiry(0) = %d, %v", v, err)
	}
	bad := []string{"", "tomorrow", "30", "30x", "-3d", "2024-13-01", "2024-02-30", "1.5d",
		"d", "99999999999h", "200000y", "9999999999999999999999d", "10000-01-01T00:00:00Z"}
	for _, in := range bad {
		if v, err := ParseExpiry(in, now); err == nil {
			t.Errorf("ParseExpiry(%q) = %d, want error", in, v)
		} else if !strings.Contains(err.Error(), "expiry") {
			t.Errorf("ParseExpiry(%q) error %q lacks context", in, err)
		}
		if _, err := ParseStart(in, now); err == nil || !strings.Contains(err.Error(), "start") {
			t.Errorf("ParseStart(%q) error = %v", in, err)
		}
	}
}

func TestValidateSubject(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"foo", "foo.bar", "foo.*", "foo.>", ">", "*", "*.x.>", "a-b_c.$SYS"} {
		if err := ValidateSubject(s, true); err != nil {
			t.Errorf("ValidateSubject(%q, true) = %v", s, err)
		}
	}
	for _, s := range []string{"", ".", "foo.", ".foo", "foo..bar", "foo bar", "foo.>.bar", ">.x", "a\tb"} {
		if err := ValidateSubject(s, true); err == nil {
			t.Errorf("ValidateSubject(%q, true) accepted", s)
		}
	}
	for _, s := range []string{"foo.*", ">", "a.>"} {
		if err := ValidateSubject(s, false); err == nil {
			t.Errorf("ValidateSubject(%q, false) accepted a wildcard", s)
		}
	}
	if err := ValidateSubject("foo.bar", false); err != nil {
		t.Errorf("literal refused: %v", err)
	}
}

// The template expansion keeps a subject only if the server's IsValidSubject does; our
// copy must agree with it.
func TestIsValidSubjectMatchesServer(t *testing.T) {
	t.Parallel()
	cases := []string{"", " ", "a", "a.b", "a..b", ".a", "a.", ">", "a.>", "a.>.b", "*", "a.*.b",
		"a b", "a. .b", "a.\t", "sales.support.pam.>", "x.{{name()}}", "a.>>", "a.**", "a.\n.b",
		"sales. .pam", "é.ü", "a\x00b", ">.>", "a.>.", "foo\f", "  .a"}
	for _, s := range cases {
		if got, want := isValidSubject(s), server.IsValidSubject(s); got != want {
			t.Errorf("isValidSubject(%q) = %v, server says %v", s, got, want)
		}
	}
}

func TestParseTag(t *testing.T) {
	t.Parallel()
	good := map[string]string{"team:support": "team:support", " Team:Leads ": "team:leads", "prod": "prod", "a:b:c": "a:b:c"}
	for in, want := range good {
		if got, err := ParseTag(in); err != nil || got != want {
			t.Errorf("ParseTag(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "team:", ":x", "team: x", "a b", ":"} {
		if got, err := ParseTag(in); err == nil {
			t.Errorf("ParseTag(%q) = %q, want error", in, got)
		}
	}
	if got, err := ParseTags([]string{"A:B", "c"}); err != nil || strings.Join(got, ",") != "a:b,c" {
		t.Errorf("ParseTags = %v, %v", got, err)
	}
	if _, err := ParseTags([]string{"ok", "bad:"}); err == nil {
		t.Error("ParseTags accepted a bad tag")
	}
}

func TestParseTimeRange(t *testing.T) {
	t.Parallel()
	tr, err := ParseTimeRange("08:00:00-17:00:00")
	if err != nil || tr != (jwt.TimeRange{Start: "08:00:00", End: "17:00:00"}) {
		t.Fatalf("ParseTimeRange = %+v, %v", tr, err)
	}
	// The result must pass the jwt library's own validation.
	vr := jwt.ValidationResults{}
	tr.Validate(&vr)
	if !vr.IsEmpty() {
		t.Fatalf("jwt refuses %+v: %v", tr, vr.Errors())
	}
	for _, in := range []string{"", "08:00:00", "8-17", "08:00-17:00", "25:00:00-26:00:00", "08:00:00-", "-17:00:00", "aa:bb:cc-17:00:00"} {
		if _, err := ParseTimeRange(in); err == nil {
			t.Errorf("ParseTimeRange(%q) accepted", in)
		}
	}
}

func TestParseCIDRConnTypeLocale(t *testing.T) {
	t.Parallel()
	if v, err := ParseCIDR("192.168.1.7/24"); err != nil || v != "192.168.1.0/24" {
		t.Errorf("ParseCIDR = %q, %v", v, err)
	}
	if v, err := ParseCIDR("2001:db8::/32"); err != nil || v != "2001:db8::/32" {
		t.Errorf("ParseCIDR v6 = %q, %v", v, err)
	}
	if _, err := ParseCIDR("10.0.0.1"); err == nil || !strings.Contains(err.Error(), "10.0.0.1/32") {
		t.Errorf("bare IP error = %v, want a /32 hint", err)
	}
	for _, in := range []string{"", "10.0.0.0/33", "banana", "10.0.0/8"} {
		if _, err := ParseCIDR(in); err == nil {
			t.Errorf("ParseCIDR(%q) accepted", in)
		}
	}
	if v, err := ParseConnType("websocket"); err != nil || v != jwt.ConnectionTypeWebsocket {
		t.Errorf("ParseConnType = %q, %v", v, err)
	}
	for _, in := range []string{"", "TCP", "web socket"} {
		if _, err := ParseConnType(in); err == nil {
			t.Errorf("ParseConnType(%q) accepted", in)
		}
	}
	for _, in := range []string{"UTC", "Europe/Berlin", "America/New_York"} {
		if err := ValidateLocale(in); err != nil {
			t.Errorf("ValidateLocale(%q) = %v", in, err)
		}
	}
	for _, in := range []string{"", "Mars/Olympus", "../etc/passwd"} {
		if err := ValidateLocale(in); err == nil {
			t.Errorf("ValidateLocale(%q) accepted", in)
		}
	}
}
