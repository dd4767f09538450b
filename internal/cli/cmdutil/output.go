package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// NewTable starts a table in nsc's rounded style with a centred title.
func NewTable(title string) table.Writer {
	t := table.NewWriter()
	t.SetStyle(table.StyleRounded)
	t.Style().Title.Align = text.AlignCenter
	t.Style().Options.SeparateRows = false
	if title != "" {
		t.SetTitle(title)
	}
	return t
}

// RenderTable writes t to w with a trailing newline.
func RenderTable(w io.Writer, t table.Writer) {
	fmt.Fprintln(w, t.Render())
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}

// FormatUnix renders a JWT timestamp the way nsc does; zero is empty.
func FormatUnix(ts int64) string {
	if ts == 0 {
		return ""
	}
	return time.Unix(ts, 0).UTC().Format("2006-01-02 15:04:05 UTC")
}

// FormatLimit renders a numeric limit; negative means unlimited.
func FormatLimit(n int64) string {
	if n < 0 {
		return "Unlimited"
	}
	return fmt.Sprintf("%d", n)
}
