package erofs

import "errors"

// lz4Decode decodes an LZ4 block (the raw format, no frame) from src into
// dst and stops as soon as dst is full: erofs may need only the start of
// what a pcluster holds, and the kernel decodes it the same way. It
// returns how many bytes it wrote; fewer than len(dst) means src ended.
//
// A block is a run of sequences: a token (literal count, match length),
// the literals, then a 2-byte match offset back into the output; the last
// sequence has literals only.
func lz4Decode(dst, src []byte) (int, error) {
	d, s := 0, 0
	for s < len(src) {
		token := src[s]
		s++
		lit, ok := lz4Length(int(token>>4), src, &s)
		if !ok || lit > len(src)-s {
			return d, errLZ4Truncated
		}
		c := copy(dst[d:], src[s:s+lit])
		d += c
		s += lit
		if d == len(dst) || s == len(src) {
			return d, nil
		}
		if len(src)-s < 2 {
			return d, errLZ4Truncated
		}
		off := int(src[s]) | int(src[s+1])<<8
		s += 2
		if off == 0 || off > d {
			return d, errLZ4Offset
		}
		ml, ok := lz4Length(int(token&15), src, &s)
		if !ok {
			return d, errLZ4Truncated
		}
		ml = min(ml+4, len(dst)-d)
		// An overlapping match repeats the last off bytes; each copy
		// takes all written since the match's source began, so the run
		// doubles every round.
		start := d - off
		for ml > 0 {
			c := copy(dst[d:d+ml], dst[start:d])
			d += c
			ml -= c
		}
		if d == len(dst) {
			return d, nil
		}
	}
	return d, nil
}

// lz4Length reads the 4-bit length n and, when it is 15, the bytes that
// extend it.
func lz4Length(n int, src []byte, s *int) (int, bool) {
	if n != 15 {
		return n, true
	}
	for *s < len(src) {
		b := src[*s]
		*s++
		n += int(b)
		if b != 255 {
			return n, true
		}
	}
	return n, false
}

var (
	errLZ4Truncated = errors.New("lz4: block ends inside a sequence")
	errLZ4Offset    = errors.New("lz4: match offset outside the output")
)
