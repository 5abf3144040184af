package inflate

import (
	"errors"
	"math/bits"
)

// A decoding table maps the next bits of the input (least significant
// first, as DEFLATE packs them) to a symbol's entry. Codes of up to root
// bits resolve in the primary table; a longer code's first root bits point
// to a subtable of 1<<(maxCodeLen-root) entries indexed by the bits after
// them.
//
// An entry is a uint32:
//
//	bits  0- 4  bits the code takes (a subtable pointer: root)
//	bits  8-11  extra bits after the code (a length or distance)
//	bit  12     unused code (a stream that uses it is corrupt); 0 bits
//	bit  13     subtable pointer: value is the subtable's offset
//	bit  14     end of block
//	bit  15     literal: value is the byte
//	bits 16-31  value: the literal, the base length or distance, or the
//	            subtable's offset
type entry = uint32

const (
	flagSub     = 1 << 13
	flagEOB     = 1 << 14
	flagLiteral = 1 << 15
	flagInvalid = 1 << 12

	maxCodeLen = 15
	litRoot    = 11
	distRoot   = 8
	litSub     = maxCodeLen - litRoot
	distSub    = maxCodeLen - distRoot

	numLitLen = 288
	numDist   = 32
	// The most entries a table needs: the primary table, and a subtable
	// for each symbol longer than the root at most.
	litTableSize  = 1<<litRoot + numLitLen<<litSub
	distTableSize = 1<<distRoot + numDist<<distSub
)

// lengthBase and lengthExtra describe the length symbols 257 to 285.
var (
	lengthBase  = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

var errBadCode = errors.New("inflate: invalid Huffman code")

// litEntry is the entry of literal/length symbol sym with a code of n bits.
func litEntry(sym, n int) entry {
	switch {
	case sym < 256:
		return flagLiteral | entry(sym)<<16 | entry(n)
	case sym == 256:
		return flagEOB | entry(n)
	case sym <= 285:
		i := sym - 257
		return lengthBase[i]<<16 | lengthExtra[i]<<8 | entry(n)
	}
	return flagInvalid | entry(n)
}

// distEntry is the entry of distance symbol sym with a code of n bits.
func distEntry(sym, n int) entry {
	if sym < 30 {
		return distBase[sym]<<16 | distExtra[sym]<<8 | entry(n)
	}
	return flagInvalid | entry(n)
}

// build fills table from the code lengths, root bits resolving in the
// primary table and sub more in subtables, each symbol's entry made by
// mk. It accepts what compress/flate accepts: a complete code, a single
// code of one bit (the rest of the table then decodes as invalid), or no
// code at all (every entry invalid: using it is an error).
func build(table []entry, lengths []uint8, root, sub uint, mk func(sym, n int) entry) error {
	var count [maxCodeLen + 1]int
	maxLen := 0
	for _, n := range lengths {
		if n > maxCodeLen {
			return errBadCode
		}
		count[n]++
		maxLen = max(maxLen, int(n))
	}
	count[0] = 0
	var next [maxCodeLen + 2]int
	code := 0
	for n := 1; n <= maxCodeLen; n++ {
		code = (code + count[n-1]) << 1
		next[n] = code
	}
	// Kraft: the codes fill the space exactly, or are one code of 1 bit.
	total := 0
	for n := 1; n <= maxCodeLen; n++ {
		total += count[n] << (maxCodeLen - n)
	}
	switch {
	case maxLen == 0:
	case total == 1<<maxCodeLen:
	case total == 1<<(maxCodeLen-1) && count[1] == 1 && maxLen == 1:
	default:
		return errBadCode
	}
	primary := table[:1<<root]
	for i := range primary {
		primary[i] = flagInvalid
	}
	free := 1 << root // next free subtable
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		c := next[n]
		next[n]++
		rev := int(bits.Reverse16(uint16(c)) >> (16 - n)) // DEFLATE packs codes high bit first
		e := mk(sym, int(n))
		if uint(n) <= root {
			for i := rev; i < 1<<root; i += 1 << n {
				primary[i] = e
			}
			continue
		}
		prefix := rev & (1<<root - 1)
		p := primary[prefix]
		if p&flagSub == 0 {
			if free+1<<sub > len(table) {
				return errBadCode // cannot happen for a checked code
			}
			p = flagSub | entry(free)<<16 | entry(root)
			primary[prefix] = p
			for i := free; i < free+1<<sub; i++ {
				table[i] = flagInvalid
			}
			free += 1 << sub
		}
		base := int(p >> 16)
		rest := uint(n) - root
		for i := rev >> root; i < 1<<sub; i += 1 << rest {
			table[base+i] = e
		}
	}
	return nil
}
