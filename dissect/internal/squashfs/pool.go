package squashfs

import (
	"math/bits"
	"sync"
)

// A run reads hundreds of images one after the other, each decoding a few
// blocks of the same sizes: the fragment blocks (and the stored bytes they
// are decoded from) take their buffers from pools shared by every image,
// and give them back when the image is closed (FS.Release), instead of
// asking the collector for half a megabyte per image.

// blockPools hold buffers of 4 KiB << i, the block sizes SquashFS allows.
var blockPools [9]sync.Pool

// poolIndex is the pool of buffers holding at least n bytes, -1 past 1 MiB.
func poolIndex(n int) int {
	if n <= 4096 {
		return 0
	}
	i := bits.Len(uint(n-1)) - 12
	if i >= len(blockPools) {
		return -1
	}
	return i
}

// getBuffer returns a buffer of n bytes (at most 1 MiB), from the pools
// when one is free; its contents are not zeroed.
func getBuffer(n int) *[]byte {
	i := poolIndex(n)
	if i < 0 {
		b := make([]byte, n)
		return &b
	}
	if b, ok := blockPools[i].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 4096<<i)
	return &b
}

// putBuffer gives a buffer from getBuffer back. The caller holds no slice
// of it afterwards.
func putBuffer(b *[]byte) {
	if b == nil {
		return
	}
	if i := poolIndex(cap(*b)); i >= 0 && cap(*b) == 4096<<i {
		blockPools[i].Put(b)
	}
}
