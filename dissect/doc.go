// Package dissect reads portable service images without mounting them.
//
// An image is a directory (or btrfs subvolume) or a raw file: a naked file
// system (squashfs, erofs, ext4), an MBR disk, or a GPT disk laid out by the
// Discoverable Partitions Specification. [Open] returns an [Image] that says
// what was found (partition table, the partitions chosen and their
// designators, verity data) and serves the image's tree as an io/fs.FS: the
// root partition, with the usr partition at /usr for split images.
//
// # Security
//
// Images are untrusted bytes read by a root process at every boot. Every
// path and symlink target resolves inside the image (chroot semantics, with
// a bounded number of hops); nothing can reach the host's files, directory
// images included. Every reader works within a [Limits] budget of bytes
// read, bytes decompressed, directory entries visited and symlink hops, and
// never allocates from a size an image claims without checking it against
// what it can legitimately need. Errors say which of two kinds they are:
// errors.Is(err, [ErrCorrupt]) for malformed or hostile input (with the byte
// offset in a [FormatError]), errors.Is(err, [ErrUnsupported]) for a known
// feature we do not read (naming it).
package dissect
