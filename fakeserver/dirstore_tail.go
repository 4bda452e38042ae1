package fakeserver

import (
	"fmt"
	"io/fs"
	"os"
)

// fileExtender is a Store whose completed files can take more bytes at their end (the data
// directory). no-truncate-on-reuse writes there the tail that the module's data file keeps of
// an earlier, longer file, so that the file at the path handed to the backend holds the same
// bytes as the file view.
type fileExtender interface {
	// appendToFile writes p at the end of the completed file called name.
	appendToFile(name string, p []byte) error
}

var _ fileExtender = (*dirStore)(nil)

// appendToFile writes p at the end of the completed file name, through the directory's root
// like every other write (no link is followed), fsynced when the store fsyncs.
func (s *dirStore) appendToFile(name string, p []byte) error {
	if !validFileName(name) {
		return fmt.Errorf("data directory: file %q: %w", name, fs.ErrNotExist)
	}
	f, err := s.openFile(dirFiles+"/"+fileKey(name), os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return fmt.Errorf("data directory: file %q: %w", name, err)
	}
	_, err = f.Write(p)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("data directory: file %q: append: %w", name, plainErr(err))
	}
	return nil
}
