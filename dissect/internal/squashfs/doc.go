// Package squashfs reads SquashFS 4.0 images lazily: the superblock when it
// is opened, then only the metadata blocks on the paths it is asked about
// and the data blocks of the files it reads.
//
// It implements vfs.FS; it never follows symlinks itself (vfs.Tree does).
// Every field of the image is untrusted: sizes are checked against the
// format's own bounds (8 KiB metadata blocks, the superblock's block size)
// before anything is allocated, and all work is charged to a vfs.Budget.
//
// Supported compressors: gzip (zlib), lzma, lzo, xz, lz4 and zstd.
package squashfs
