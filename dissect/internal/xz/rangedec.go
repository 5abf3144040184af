package xz

// The range decoder of LZMA: bits are decoded against adaptive
// probabilities of 11 bits, and the range is refilled a byte at a time.
//
// The decoder's state (range, code, input position) is passed and
// returned by value, so that the compiler keeps it in registers in the
// decoding loop; bit is small enough to be inlined there.

const (
	probBits  = 11
	probTotal = 1 << probBits
	probInit  = probTotal / 2
	moveBits  = 5
	topValue  = 1 << 24
)

// prob is the adaptive probability that the next bit is 0.
type prob uint16

// rangeDecoder is the state between calls. in is the stream, padded with
// zeros past its end: a symbol reads at most maxSymbolBytes, so in[ip]
// stays in bounds while ip is at most the chunk's end, which the decoder
// checks before each symbol.
type rangeDecoder struct {
	rng, code uint32
	in        []byte
	ip        int
}

// maxSymbolBytes bounds the bytes one symbol reads: one per bit decoded,
// and the longest symbol (a match with the largest distance slot) decodes
// 1+1+10+6+26+4 bits.
const maxSymbolBytes = 48

// init starts a chunk: five bytes, the first of which the encoder always
// writes as zero (it is shifted out, as XZ Embedded ignores it).
func (r *rangeDecoder) init() {
	r.rng = 0xffffffff
	r.code = 0
	for range 5 {
		r.code = r.code<<8 | uint32(r.in[r.ip])
		r.ip++
	}
}

// normalize refills the range: bits are decoded after it, and between
// calls the range is kept normalized, as the chunk's end check needs.
func normalize(rng, code uint32, in []byte, ip int) (uint32, uint32, int) {
	if rng < topValue {
		rng <<= 8
		code = code<<8 | uint32(in[ip])
		ip++
	}
	return rng, code, ip
}

// bit decodes one bit with probability p and adapts p, for the bits the
// decoder branches on.
func bit(p *prob, rng, code uint32, in []byte, ip int) (uint32, uint32, int, uint32) {
	if rng < topValue {
		rng <<= 8
		code = code<<8 | uint32(in[ip])
		ip++
	}
	bound := (rng >> probBits) * uint32(*p)
	if code < bound {
		*p += (probTotal - *p) >> moveBits
		return bound, code, ip, 0
	}
	*p -= *p >> moveBits
	return rng - bound, code - bound, ip, 1
}

// bitSelect is bit computed without branching on the bit, on a
// normalized range, for the bits that build a symbol (literals, lengths,
// distances): they are the least predictable, and a mispredicted branch
// costs more than computing both outcomes (12% of the decoding time of
// real blocks). The caller normalizes first: with it, bitSelect would be
// too large to be inlined.
func bitSelect(p *prob, rng, code uint32) (uint32, uint32, uint32) {
	v := uint32(*p)
	bound := (rng >> probBits) * v
	b := uint32((uint64(code)-uint64(bound))>>63) ^ 1 // code >= bound
	mask := -b
	*p = prob(v + (probTotal-v)>>moveBits&^mask - v>>moveBits&mask)
	return bound + (rng-2*bound)&mask, code - bound&mask, b
}

// tree decodes a symbol of bits bits, most significant first, with the
// probabilities probs[1 : 1<<bits].
func tree(probs []prob, bits uint, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	sym := uint32(1)
	limit := uint32(1) << bits
	for sym < limit {
		var b uint32
		rng, code, ip = normalize(rng, code, in, ip)
		rng, code, b = bitSelect(&probs[sym], rng, code)
		sym = sym<<1 | b
	}
	return sym - limit, rng, code, ip
}

// reverseTree decodes bits bits, least significant first, with the
// probabilities probs[1 : 1<<bits].
func reverseTree(probs []prob, bits uint, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	m := uint32(1)
	var sym uint32
	for i := range bits {
		var b uint32
		rng, code, ip = normalize(rng, code, in, ip)
		rng, code, b = bitSelect(&probs[m], rng, code)
		m = m<<1 | b
		sym |= b << i
	}
	return sym, rng, code, ip
}

// direct decodes bits bits of even probability, most significant first.
func direct(bits uint, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	var v uint32
	for range bits {
		rng, code, ip = normalize(rng, code, in, ip)
		rng >>= 1
		b := uint32((uint64(code)-uint64(rng))>>63) ^ 1 // code >= rng
		code -= rng & -b
		v = v<<1 | b
	}
	return v, rng, code, ip
}
