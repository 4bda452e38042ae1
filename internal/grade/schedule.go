package grade

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
)

// Defaults of the schedule.
const (
	// DefaultSize is the size of every file of the schedule: more than 3 segments of the
	// usual 1 MiB, and not a multiple of a power of two.
	DefaultSize = 3<<20 + 12345
	// DefaultRetryAfter is the Retry-After, in seconds, of the schedule's 503.
	DefaultRetryAfter = 2
	// faultBytes is how many body bytes a reset or a partial commit lets through.
	faultBytes = 512
)

// Plan is what the grading mock does to the upload of one file.
type Plan struct {
	// Name is a word for the plan, e.g. "lost-answer".
	Name string
	// Inject says what the mock does, for people.
	Inject string
	// Rules are the fault rules (fakeserver.ParseFaultRule) without their session: the
	// grade adds session=ID for the session that uploads the file.
	Rules []string
	// Stops is true for a plan whose upload is meant to end with an error (a 4xx).
	Stops bool
	// Exercises are the clauses this plan gives evidence for (beyond every upload's).
	Exercises []ID
}

// Upload is one file the grade asks the client to upload, and the plan of its faults.
type Upload struct {
	// File is the file's path under the grade's directory, with slashes, e.g.
	// "03-retry-after.bin" or "twins/a/twin.bin".
	File string
	// Name is the name the client sends (the base name of File).
	Name string
	// Size is the file's size in bytes.
	Size int64
	// Plan is what the mock injects into its upload.
	Plan Plan
}

// Schedule returns the uploads of a grade, each file of size bytes (at least 16) with its
// fault plan; retryAfter is the Retry-After of the 503, in seconds.
func Schedule(size int64, retryAfter int) []Upload {
	mid := size / 2
	at := fmt.Sprintf("offset=%d", mid)
	keep := min(int64(faultBytes), size/4)
	plans := []struct {
		file string
		plan Plan
	}{
		{"01-clean.bin", Plan{Name: "clean", Inject: "no fault (the baseline)"}},
		{"02-lost-answer.bin", Plan{Name: "lost-answer",
			Inject: fmt.Sprintf("the answer to the segment holding byte %d is lost (stored, connection closed), and so is the first answer to the last segment", mid),
			Rules:  []string{"lost-reply," + at, "lost-reply,match=last"}, Exercises: []ID{ResendAfterLostAnswer, ProbeBeforeResume}}},
		{"03-retry-after.bin", Plan{Name: "retry-after",
			Inject: fmt.Sprintf("503 with Retry-After: %d to the segment holding byte %d", retryAfter, mid),
			Rules:  []string{fmt.Sprintf("status=503,retry-after=%d,%s", retryAfter, at)}, Exercises: []ID{CompleteAfter5xx, HonourRetryAfter, ProbeBeforeResume}}},
		{"04-server-errors.bin", Plan{Name: "server-errors",
			Inject: fmt.Sprintf("500, then 502, to the segment holding byte %d", mid),
			Rules:  []string{"status=500," + at, "status=502," + at}, Exercises: []ID{CompleteAfter5xx, ProbeBeforeResume}}},
		{"05-reset.bin", Plan{Name: "reset",
			Inject: fmt.Sprintf("the connection is reset after %d body bytes of the segment holding byte %d", keep, mid),
			Rules:  []string{fmt.Sprintf("reset-after=%d,%s", keep, at)}, Exercises: []ID{CompleteAfterReset, ProbeBeforeResume}}},
		{"06-partial-commit.bin", Plan{Name: "partial-commit",
			Inject: fmt.Sprintf("the segment holding byte %d is kept for its first %d bytes only, then answered 500", mid, keep),
			Rules:  []string{fmt.Sprintf("keep=%d,then=500,%s", keep, at)}, Exercises: []ID{CompleteAfterPartialCommit, FillEveryGap, ProbeBeforeResume, NoResendAcknowledged}}},
		{"07-lost-session.bin", Plan{Name: "lost-session",
			Inject: fmt.Sprintf("the server forgets the session before the segment holding byte %d (its list then lacks every earlier byte)", mid),
			Rules:  []string{"forget," + at}, Exercises: []ID{FillEveryGap, NoStopIncomplete}}},
		{"08-client-error.bin", Plan{Name: "client-error",
			Inject: fmt.Sprintf("403 to the segment holding byte %d: the client must stop with an error", mid),
			Rules:  []string{"status=403,body=the%20grade%20refuses%20this%20segment%3A%20stop," + at}, Stops: true, Exercises: []ID{StopOn4xx}}},
		{"twins/a/twin.bin", Plan{Name: "twin", Inject: "no fault; a different file of the same name and size as twins/b/twin.bin", Exercises: []ID{DistinctSessionIDs}}},
		{"twins/b/twin.bin", Plan{Name: "twin", Inject: "no fault; a different file of the same name and size as twins/a/twin.bin", Exercises: []ID{DistinctSessionIDs}}},
	}
	out := make([]Upload, len(plans))
	for i, p := range plans {
		out[i] = Upload{File: p.file, Name: filepath.Base(p.file), Size: size, Plan: p.plan}
	}
	return out
}

// Describe returns the lines that tell a person what to upload and what the mock injects.
func Describe(uploads []Upload, dir string) []string {
	lines := []string{fmt.Sprintf("upload these %d files, each in full (one after the other or at once); the mock injects:", len(uploads))}
	for _, u := range uploads {
		lines = append(lines, fmt.Sprintf("  %s (%d bytes): %s", filepath.Join(dir, filepath.FromSlash(u.File)), u.Size, u.Plan.Inject))
	}
	return lines
}

// Content returns bytes [off, off+len(p)) of the upload's file: deterministic bytes that
// differ from file to file (twins included).
func (u Upload) Content(p []byte, off int64) {
	seed := u.seed()
	for i := range p {
		x := off + int64(i)
		p[i] = byte(mix(seed^uint64(x/8)*0x9e3779b97f4a7c15) >> (8 * (x % 8)))
	}
}

func (u Upload) seed() uint64 {
	h := fnv.New64a()
	h.Write([]byte(u.File))
	return h.Sum64()
}

// mix is splitmix64's finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// WriteFiles writes the uploads' files under dir (created if needed) and returns their paths.
func WriteFiles(dir string, uploads []Upload) ([]string, error) {
	paths := make([]string, 0, len(uploads))
	buf := make([]byte, 64<<10)
	for _, u := range uploads {
		path := filepath.Join(dir, filepath.FromSlash(u.File))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("write the grade's files: %w", err)
		}
		if err := writeFile(path, u, buf); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func writeFile(path string, u Upload, buf []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the grade's files: %w", err)
	}
	for off := int64(0); off < u.Size; {
		n := min(int64(len(buf)), u.Size-off)
		u.Content(buf[:n], off)
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		off += n
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// planFor returns the index of the first upload whose name and size are these.
func planFor(uploads []Upload, name string, size int64) (int, bool) {
	for i, u := range uploads {
		if u.Name == name && u.Size == size {
			return i, true
		}
	}
	return -1, false
}
