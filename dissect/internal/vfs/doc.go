// Package vfs is the common ground of dissect's file-system readers: the small
// inode-level interface each reader implements, the error kinds every reader
// reports, the work budget that bounds what one image may cost, and the one
// chroot-style path resolver that turns any reader into an io/fs.FS.
//
// # Why one resolver
//
// A portable image is untrusted. Every path inside it, absolute or relative,
// and every symlink target must resolve inside the image, never on the host,
// with a bounded number of hops. Writing that logic once, over [FS], means
// squashfs, ext4, erofs and directory images cannot differ in how they chase
// links, and a fix lands for all of them.
package vfs
