// Package erofs reads erofs images lazily: the superblock when it is
// opened, then only the inodes, directory blocks and data of the paths it
// is asked about and the files it reads.
//
// It implements vfs.FS; it never follows symlinks itself (vfs.Tree does).
//
// # What it reads
//
// Compact and extended inodes; flat (plain and tail-packed), chunk-based
// and compressed data; directories, looked up by binary search over their
// name-sorted blocks; symlinks; xattrs are skipped. Compressed files: full
// and compact (2- and 4-byte) lcluster indexes, big pclusters, inline tail
// pclusters (ztailpacking), fragments in the packed inode, deduplicated
// (partially referenced) pclusters, interlaced uncompressed pclusters, and
// the lz4 (lz4hc), lzma (MicroLZMA), deflate and zstd algorithms.
//
// Not read, and refused as unsupported by name: the 48-bit layout, metabox,
// extra devices, extent-record indexes (erofs-utils 1.9), and any
// incompatible feature bit this package does not know.
//
// # Security
//
// Every field of the image is untrusted. Offsets and lengths are checked
// against the file system's size and the format's own bounds (one block
// for metadata and inline data, 1 MiB per pcluster, 12 MiB per decoded
// extent) before anything is read or allocated; nothing is allocated from
// a size an inode claims. Directory entries and lcluster and chunk indexes
// visited are charged to the vfs.Budget as entries, decoded bytes as
// decompressed before their buffer is allocated. Every walk over the
// indexes moves strictly forward or backward, so none can loop.
package erofs
