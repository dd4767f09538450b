package cmdutil

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// widthWriter is a writer that knows how many columns it shows: a terminal.
type widthWriter interface {
	io.Writer
	Width() int
}

type sizedWriter struct {
	io.Writer
	width func() int
}

func (w sizedWriter) Width() int { return w.width() }

// WithWidth returns w with a width in columns, asked each time a table is rendered (a terminal
// may be resized); tables rendered to it with RenderTable fit that width. main wraps stdout with
// it when stdout is a terminal; tests wrap a buffer with a fixed width. A width of 0 or less
// means unlimited.
func WithWidth(w io.Writer, width func() int) io.Writer {
	return sizedWriter{Writer: w, width: width}
}

// Table is a go-pretty table writer that also keeps its header and row cells as text, which
// go-pretty does not let one read back: fitting a table to a width needs each column's widths.
type Table struct {
	table.Writer
	cells   [][]string
	configs []table.ColumnConfig
}

func (t *Table) keep(row table.Row) {
	cells := make([]string, len(row))
	for i, c := range row {
		cells[i] = fmt.Sprint(c)
	}
	t.cells = append(t.cells, cells)
}

// AppendHeader appends a header row.
func (t *Table) AppendHeader(row table.Row, configs ...table.RowConfig) {
	t.keep(row)
	t.Writer.AppendHeader(row, configs...)
}

// AppendRow appends a row.
func (t *Table) AppendRow(row table.Row, configs ...table.RowConfig) {
	t.keep(row)
	t.Writer.AppendRow(row, configs...)
}

// AppendRows appends rows.
func (t *Table) AppendRows(rows []table.Row, configs ...table.RowConfig) {
	for _, r := range rows {
		t.keep(r)
	}
	t.Writer.AppendRows(rows, configs...)
}

// AppendFooter appends a footer row.
func (t *Table) AppendFooter(row table.Row, configs ...table.RowConfig) {
	t.keep(row)
	t.Writer.AppendFooter(row, configs...)
}

// SetColumnConfigs sets the column configurations; fitting adds its limits to them.
func (t *Table) SetColumnConfigs(configs []table.ColumnConfig) {
	t.configs = configs
	t.Writer.SetColumnConfigs(configs)
}

// minColumn is the narrowest a column is made when words have to be broken to fit.
const minColumn = 6

// renderFit renders the table at most width columns wide. Columns wider than their share are
// wrapped: first only at spaces, the widest first, so that keys and other long words stay whole
// on one line (they can be copied); then, if that is not enough, words are broken too; a table
// with more columns than the width can hold is finally cut, each cut line ending in the style's mark (≈).
func (t *Table) renderFit(width int) string {
	natural, words := t.columnWidths()
	n := len(natural)
	if n == 0 {
		return t.Render()
	}
	// The rounded style: a border and a space on each side of every cell, a separator between
	// cells.
	budget := width - (3*n + 1)
	if sum(natural) <= budget {
		return t.Render()
	}
	caps := fill(natural, words, budget)
	if caps == nil {
		floor := make([]int, n)
		for i := range floor {
			floor[i] = min(natural[i], minColumn)
		}
		caps = fill(natural, floor, budget)
		if caps == nil {
			caps = floor
			t.Style().Size.WidthMax = width
		}
	}
	configs := append([]table.ColumnConfig(nil), t.configs...)
	for i, c := range caps {
		if c >= natural[i] {
			continue
		}
		cc := table.ColumnConfig{Number: i + 1, WidthMax: c, WidthMaxEnforcer: text.WrapSoft}
		found := false
		for j := range configs {
			if configs[j].Number == i+1 {
				configs[j].WidthMax, configs[j].WidthMaxEnforcer = cc.WidthMax, cc.WidthMaxEnforcer
				found = true
			}
		}
		if !found {
			configs = append(configs, cc)
		}
	}
	t.Writer.SetColumnConfigs(configs)
	out := t.Render()
	t.Writer.SetColumnConfigs(t.configs)
	t.Style().Size.WidthMax = 0
	return out
}

// columnWidths returns each column's widest line and its longest word, in terminal columns.
func (t *Table) columnWidths() (natural, words []int) {
	for _, row := range t.cells {
		for i, cell := range row {
			for len(natural) <= i {
				natural, words = append(natural, 0), append(words, 0)
			}
			natural[i] = max(natural[i], text.LongestLineLen(cell))
			for _, w := range strings.Fields(cell) {
				words[i] = max(words[i], text.StringWidthWithoutEscSequences(w))
			}
		}
	}
	return natural, words
}

// fill finds the widths that fit budget by narrowing the widest columns first, each no
// narrower than its floor: every column gets min(natural, max(floor, c)) for the largest c that
// fits. It returns nil when even the floors do not fit.
func fill(natural, floor []int, budget int) []int {
	caps := func(c int) []int {
		out := make([]int, len(natural))
		for i := range natural {
			out[i] = min(natural[i], max(floor[i], c))
		}
		return out
	}
	if sum(caps(0)) > budget {
		return nil
	}
	lo, hi := 0, 0
	for _, w := range natural {
		hi = max(hi, w)
	}
	for lo < hi { // the largest c with sum(caps(c)) <= budget
		mid := (lo + hi + 1) / 2
		if sum(caps(mid)) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return caps(lo)
}

func sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}
