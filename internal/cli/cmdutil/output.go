package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// NewTable starts a table in nsc's rounded style with a centred title. The table keeps its
// cells as text (see Table), so that RenderTable can fit it to a terminal.
func NewTable(title string) table.Writer {
	t := table.NewWriter()
	t.SetStyle(table.StyleRounded)
	t.Style().Title.Align = text.AlignCenter
	t.Style().Options.SeparateRows = false
	if title != "" {
		t.SetTitle(title)
	}
	return &Table{Writer: t}
}

// RenderTable writes t to w with a trailing newline. When w is a terminal (a writer with a
// width, see WithWidth), the table is fitted to that width; pipes and files get it whole.
func RenderTable(w io.Writer, t table.Writer) {
	if ww, ok := w.(widthWriter); ok {
		if tt, ok := t.(*Table); ok {
			if cols := ww.Width(); cols > 0 {
				fmt.Fprintln(w, tt.renderFit(cols))
				return
			}
		}
	}
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
