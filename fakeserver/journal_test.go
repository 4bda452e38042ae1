package fakeserver

import (
	"testing"
)

// TestJournalRing: the ring keeps the latest entries in sequence order, counts what it
// dropped, and filters by session and sequence.
func TestJournalRing(t *testing.T) {
	j := newJournal(3)
	for i := range 5 {
		seq := j.next()
		sess := "a"
		if i%2 == 1 {
			sess = "b"
		}
		j.add(JournalEntry{Seq: seq, Session: sess})
	}
	tests := []struct {
		name string
		f    JournalFilter
		want []int64
	}{
		{"all", JournalFilter{}, []int64{3, 4, 5}},
		{"session", JournalFilter{Session: "a"}, []int64{3, 5}},
		{"since", JournalFilter{Since: 3}, []int64{4, 5}},
		{"both", JournalFilter{Session: "b", Since: 4}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := j.read(tt.f)
			if p.Dropped != 2 || p.Last != 5 {
				t.Errorf("dropped %d last %d, want 2 and 5", p.Dropped, p.Last)
			}
			var got []int64
			for _, e := range p.Entries {
				got = append(got, e.Seq)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("seqs %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("seqs %v, want %v", got, tt.want)
				}
			}
		})
	}
	j.clear()
	if p := j.read(JournalFilter{}); len(p.Entries) != 0 || p.Dropped != 0 || p.Last != 5 {
		t.Errorf("after clear: %+v", p)
	}
}
