package vfs

import "io/fs"

// Perm turns the low twelve bits of a POSIX mode (rwx for owner, group and
// others, setuid, setgid, sticky) into fs.FileMode bits.
func Perm(m uint16) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// PosixMode turns a POSIX st_mode, as ext4 and erofs inodes store it, into
// an fs.FileMode; ok is false for a file type POSIX does not define.
func PosixMode(m uint16) (mode fs.FileMode, ok bool) {
	mode = Perm(m)
	switch m & 0o170000 {
	case 0o100000:
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	default:
		return 0, false
	}
	return mode, true
}

// DirentType turns the file type of a directory entry, numbered as Linux
// file systems store it (ext4's and erofs's 1 regular to 7 symlink), into
// fs.FileMode type bits; ok is false for 0 (unknown) and other values.
func DirentType(t uint8) (fs.FileMode, bool) {
	switch t {
	case 1:
		return 0, true
	case 2:
		return fs.ModeDir, true
	case 3:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case 4:
		return fs.ModeDevice, true
	case 5:
		return fs.ModeNamedPipe, true
	case 6:
		return fs.ModeSocket, true
	case 7:
		return fs.ModeSymlink, true
	}
	return 0, false
}
