package cmdutil

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

const key = "ADVZMQPXL33COS3IUDUOBDVVSGWL377LJ2NAV4AX6PXDNX67F5GNUTEO"

func render(t *testing.T, tw table.Writer, width int) string {
	t.Helper()
	var b bytes.Buffer
	if width > 0 {
		RenderTable(WithWidth(&b, func() int { return width }), tw)
	} else {
		RenderTable(&b, tw)
	}
	return b.String()
}

func widest(out string) int {
	w := 0
	for _, l := range strings.Split(out, "\n") {
		w = max(w, text.StringWidthWithoutEscSequences(l))
	}
	return w
}

func detailsTable() table.Writer {
	tw := NewTable("Account Details")
	tw.AppendRow(table.Row{"Account ID", key})
	tw.AppendRow(table.Row{"Default Response Permissions", "Not Set"})
	tw.AppendRow(table.Row{"Description", "a long description of what this account is for, which the terminal must wrap"})
	return tw
}

func TestTablesFitTheTerminalWidthAndKeepKeysWhole(t *testing.T) {
	t.Parallel()
	full := render(t, detailsTable(), 0)
	if widest(full) <= 80 {
		t.Fatalf("the test table is already narrow:\n%s", full)
	}
	out := render(t, detailsTable(), 80)
	if w := widest(out); w > 80 {
		t.Errorf("rendered %d columns wide on an 80-column terminal:\n%s", w, out)
	}
	if !strings.Contains(out, key) {
		t.Errorf("the key was broken across lines:\n%s", out)
	}
	for _, word := range []string{"Default", "Permissions", "description", "terminal"} {
		if !strings.Contains(out, word) {
			t.Errorf("%q lost:\n%s", word, out)
		}
	}
}

func TestTablesPipedOrWideEnoughKeepTheirFullWidth(t *testing.T) {
	t.Parallel()
	full := render(t, detailsTable(), 0)
	if got := render(t, detailsTable(), 500); got != full {
		t.Errorf("a 500-column terminal changed the table:\n%s\nwant:\n%s", got, full)
	}
	if got := render(t, detailsTable(), 0); got != full {
		t.Errorf("rendering twice differs")
	}
}

func TestTablesTooWideForWholeWordsBreakWordsThenCut(t *testing.T) {
	t.Parallel()
	// Keys cannot stay whole in 40 columns: words are broken, and the table still fits.
	out := render(t, detailsTable(), 40)
	if w := widest(out); w > 40 {
		t.Errorf("rendered %d columns wide in 40:\n%s", w, out)
	}
	// Twenty columns cannot fit in 30 even at the narrowest: lines are cut, marked with ≈.
	tw := NewTable("Many")
	row := table.Row{}
	for i := 0; i < 20; i++ {
		row = append(row, "column")
	}
	tw.AppendHeader(row)
	tw.AppendRow(row)
	out = render(t, tw, 30)
	if w := widest(out); w > 30 {
		t.Errorf("rendered %d columns wide in 30:\n%s", w, out)
	}
	if !strings.Contains(out, "≈") {
		t.Errorf("cut lines are not marked:\n%s", out)
	}
}
