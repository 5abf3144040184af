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

// blockPools hold buffers of 4 KiB << i, the block sizes SquashFS allows,
// each with decoderSlack bytes of room past its size.
var blockPools [9]sync.Pool

// decoderSlack is room past the end of every pooled buffer. klauspost's
// zstd decoder copies in 16- and 32-byte strides, and does so only when
// the buffer it decodes into has that much room past the block (else it
// copies byte-exactly): without it, every 8 KiB metadata block, decoded
// into a buffer of exactly its size, took the slow copies.
const decoderSlack = 64

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
	b := make([]byte, n, 4096<<i+decoderSlack)
	return &b
}

// putBuffer gives a buffer from getBuffer back. The caller holds no slice
// of it afterwards.
func putBuffer(b *[]byte) {
	if b == nil {
		return
	}
	if i := poolIndex(cap(*b) - decoderSlack); i >= 0 && cap(*b) == 4096<<i+decoderSlack {
		blockPools[i].Put(b)
	}
}
