package wire

import "strconv"

// clipText shortens s to at most n bytes, marking the cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// quoteText quotes s in Go syntax.
func quoteText(s string) string { return strconv.Quote(s) }
