package vfs

import (
	"errors"
	"fmt"
	"io"
)

// The two kinds of failure a reader reports. errors.Is tells them apart
// across every layer, because readers wrap them with %w.
var (
	// ErrCorrupt marks input that is malformed or hostile: a structure that
	// cannot be what it claims to be.
	ErrCorrupt = errors.New("corrupt image")
	// ErrUnsupported marks a well-formed feature that we do not read (a file
	// system such as btrfs, a compressor, an incompatible feature flag).
	ErrUnsupported = errors.New("not supported")
	// ErrBudget marks an image that needed more work than its budget allows.
	// It is a kind of corruption for callers: an honest image never gets
	// near the limits.
	ErrBudget = errors.New("work budget exceeded")
	// ErrLoop is returned when symlinks chain beyond the hop limit.
	ErrLoop = errors.New("too many levels of symbolic links")
	// ErrFileTooLarge marks a file larger than the budget lets one read
	// return (Limits.FileSize). errors.Is(err, ErrBudget) is true for it
	// too: it is a budget refusal with a name of its own.
	ErrFileTooLarge error = fileTooLarge{}
)

type fileTooLarge struct{}

func (fileTooLarge) Error() string        { return "file too large" }
func (fileTooLarge) Is(target error) bool { return target == ErrBudget }

// FormatError reports corrupt input at a byte offset of the image (or of the
// partition or file system being read, as Where says).
type FormatError struct {
	Where  string // what was being read, e.g. "squashfs inode table", "gpt header"
	Offset int64  // byte offset of the bad structure, -1 if unknown
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("corrupt %s at byte %d: %s", e.Where, e.Offset, e.Msg)
	}
	return fmt.Sprintf("corrupt %s: %s", e.Where, e.Msg)
}

// Is makes errors.Is(err, ErrCorrupt) true for every FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrCorrupt }

// Corruptf returns a *FormatError.
func Corruptf(where string, off int64, format string, args ...any) error {
	return &FormatError{Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// UnsupportedError names a feature we recognise but do not read.
type UnsupportedError struct {
	Feature string // e.g. "btrfs file system", "squashfs lzo compression"
}

func (e *UnsupportedError) Error() string { return e.Feature + ": not supported" }

// Is makes errors.Is(err, ErrUnsupported) true for every UnsupportedError.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Unsupportedf returns an *UnsupportedError.
func Unsupportedf(format string, args ...any) error {
	return &UnsupportedError{Feature: fmt.Sprintf(format, args...)}
}

// ReadFull reads len(p) bytes of r at off. A short read is corruption of
// the file system named by where (a structure runs past the image, with
// what it is); a budget refusal stays a budget error, so an image that
// makes us read too much is said to, not called corrupt.
func ReadFull(r io.ReaderAt, p []byte, off int64, where, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if errors.Is(err, ErrBudget) {
		return err
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return Corruptf(where, off, "%s: %v", what, err)
}
