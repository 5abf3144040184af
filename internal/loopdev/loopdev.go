// Package loopdev attaches a file to a loop device, the kernel's way of
// mounting an image, for the benchmarks that measure our readers against
// it. The generator itself never uses a loop device.
package loopdev

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Attach binds a stretch of backing to a free loop device, read-only and
// cleared on last close, and returns the open device and its path. A
// device another process (or an earlier auto-clear) is still releasing
// answers EBUSY: the next free one is taken.
func Attach(backing *os.File, offset, size uint64) (*os.File, string, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, "", err
	}
	defer ctl.Close()
	cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
	cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
	cfg.Info.Offset, cfg.Info.Sizelimit = offset, size
	for try := 0; ; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, "", err
		}
		dev := fmt.Sprintf("/dev/loop%d", n)
		loop, err := os.OpenFile(dev, os.O_RDONLY, 0)
		if err != nil {
			return nil, "", err
		}
		err = unix.IoctlLoopConfigure(int(loop.Fd()), &cfg)
		if err == nil {
			return loop, dev, nil
		}
		loop.Close()
		if err != unix.EBUSY || try == 100 {
			return nil, "", fmt.Errorf("%s: %w", dev, err)
		}
		time.Sleep(time.Millisecond)
	}
}
