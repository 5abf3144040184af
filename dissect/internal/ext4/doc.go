// Package ext4 reads ext4 (and ext2/ext3) images lazily: the superblock
// when it is opened, then the group descriptors, inodes, extent-tree nodes
// and directory blocks on the paths it walks, and the blocks of the files
// it reads.
//
// It implements vfs.FS and never follows symlinks itself (vfs.Tree does).
// It reads extents and indirect block maps, holes and unwritten extents
// (as zeros), linear and htree directories (read linearly), casefolded
// directories (scanned, names compared without regard to case), inline
// data, fast and slow symlinks. The journal is ignored: images are read as
// written, the way a read-only mount with noload sees them. Every field
// of the image is untrusted: lengths are checked against the block size
// before use, and directory entries and extent nodes are charged to a
// vfs.Budget.
package ext4
