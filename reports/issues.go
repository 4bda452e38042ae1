package reports

import (
	"strings"
)

// IssueLink is one upstream issue of an expected deviation: its text as the list gives it
// (`#10`, a URL) and the address it points to ("" when the list names no tracker).
type IssueLink struct {
	Text string
	URL  string
}

// IssueLinks splits an expectation's issue (`#10`, `#106,#22`, a URL) into links: `#N` points
// to N under tracker (e.g. https://github.com/fdintino/nginx-upload-module/issues), a URL to
// itself.
func IssueLinks(issue, tracker string) []IssueLink {
	var out []IssueLink
	for _, part := range strings.Split(issue, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		l := IssueLink{Text: part}
		switch {
		case strings.HasPrefix(part, "http://"), strings.HasPrefix(part, "https://"):
			l.URL = part
		case strings.HasPrefix(part, "#") && tracker != "":
			l.URL = strings.TrimSuffix(tracker, "/") + "/" + strings.TrimPrefix(part, "#")
		}
		out = append(out, l)
	}
	return out
}

// mdIssues writes an expectation's issues as Markdown links (plain text without a tracker).
func mdIssues(issue, tracker string) string {
	var parts []string
	for _, l := range IssueLinks(issue, tracker) {
		if l.URL == "" {
			parts = append(parts, mdInline(l.Text))
			continue
		}
		parts = append(parts, "["+mdInline(l.Text)+"]("+strings.ReplaceAll(l.URL, ")", "%29")+")")
	}
	return strings.Join(parts, ", ")
}
