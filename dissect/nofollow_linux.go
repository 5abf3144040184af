package dissect

import "golang.org/x/sys/unix"

const noFollow = unix.O_NOFOLLOW

// noBlock opens without waiting: a FIFO found where an image, a file of a
// directory image or a sidecar file is expected would otherwise stall
// open() until some writer comes, and with it the reader (at boot, the
// generator's run). What was opened is then judged by its descriptor, not
// by its path, which may name something else by then.
const noBlock = unix.O_NONBLOCK
