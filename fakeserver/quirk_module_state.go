package fakeserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/upspec/upspec/fakeserver/internal/modulestate"
	"github.com/upspec/upspec/ranges"
)

// moduleState is the state update of the real module: each segment is merged into an
// emulated state file (package modulestate), and the 201's list, the completion and the
// failures are what that merge gives (docs/module-behavior.md §2.2, §5, §7.7, §7.8). The quirks
// range-list-cut, state-window and single-byte-state-bug are switches of this one emulation;
// the first of them that is installed installs it, each sets its switch.
type moduleState struct {
	merger modulestate.Merger
	quirks []Quirk // the switches that are on, in registry order
}

// moduleStateKey is the key of the emulation in behavior.parts and of each session's state
// file in session.value.
type moduleStateKey struct{}

// moduleStateFile is a session's emulated state file.
type moduleStateFile struct{ data []byte }

// useModuleState returns the emulation of b, installing it as b's state update on first use,
// and records q as one of its switches.
func useModuleState(q Quirk, b *behavior) *moduleState {
	ms, ok := b.parts[moduleStateKey{}].(*moduleState)
	if !ok {
		ms = &moduleState{}
		b.parts[moduleStateKey{}] = ms
		b.commit = ms.commit
	}
	ms.quirks = append(ms.quirks, q)
	return ms
}

// name is the deviation's name: its switches.
func (ms *moduleState) name() string {
	names := make([]string, len(ms.quirks))
	for i, q := range ms.quirks {
		names[i] = string(q)
	}
	return strings.Join(names, "+")
}

// commit merges seg into the session's emulated state file. s.mu is held. A failed merge is
// class C (a silent failure), or class E (the worker crash) when it follows an overrun of the
// 256-byte range-list buffer under state-window.
func (ms *moduleState) commit(x *exchange, s *session, seg ranges.Segment, _ bool) (string, bool, *failure) {
	sf, _ := s.value(moduleStateKey{}).(*moduleStateFile)
	if sf == nil {
		sf = &moduleStateFile{data: modulestate.Format(s.acked)}
		s.setValue(moduleStateKey{}, sf)
	}
	res := ms.merger.Merge(sf.data, modulestate.Range{Start: seg.Start, End: seg.End, Total: seg.Total})
	sf.data = res.State
	if res.Err != nil {
		x.by(ms.name())
		f := &failure{kind: kindDeviation, status: http.StatusInternalServerError, reason: oneLine(res.Err.Error()), outcome: falseSuccess}
		if res.Overrun && ms.merger.Window {
			f.outcome = dropConnection
		}
		return "", false, f
	}
	next := modulestate.Parse(res.State, s.total)
	if res.Complete {
		next = ranges.NewSet(s.total)
		next.Add(ranges.Range{Start: 0, End: s.total - 1})
		sf.data = nil // the module deletes the state file
	}
	if err := s.upload.Commit(seg.Range(), next.Ranges()); err != nil {
		return "", false, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot store the state: %v", err)))
	}
	s.acked, s.list = next, ""
	if !res.Complete && res.List != next.Format(ranges.FormatModule) {
		x.by(ms.name())
	}
	return res.List, res.Complete, nil
}
