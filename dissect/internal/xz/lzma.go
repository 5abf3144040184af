package xz

import "errors"

// The LZMA decoder proper: literals and matches decoded into a flat
// buffer, which is also the dictionary.

const (
	numStates      = 12
	posStatesMax   = 1 << 4
	matchLenMin    = 2
	distStates     = 4
	distSlotBits   = 6
	distModelStart = 4
	distModelEnd   = 14
	fullDistances  = 1 << (distModelEnd / 2)
	alignBits      = 4
	literalCoders  = 1 << 4 // lc + lp <= 4 in LZMA2
	literalProbs   = 0x300
)

// lenDecoder decodes a match length: 2 to 273.
type lenDecoder struct {
	choice, choice2 prob
	low             [posStatesMax][1 << 3]prob
	mid             [posStatesMax][1 << 3]prob
	high            [1 << 8]prob
}

func (l *lenDecoder) reset() {
	l.choice, l.choice2 = probInit, probInit
	for i := range l.low {
		fill(l.low[i][:])
		fill(l.mid[i][:])
	}
	fill(l.high[:])
}

func (l *lenDecoder) decode(posState, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	var b, v uint32
	if rng, code, ip, b = bit(&l.choice, rng, code, in, ip); b == 0 {
		v, rng, code, ip = tree(l.low[posState][:], 3, rng, code, in, ip)
		return matchLenMin + v, rng, code, ip
	}
	if rng, code, ip, b = bit(&l.choice2, rng, code, in, ip); b == 0 {
		v, rng, code, ip = tree(l.mid[posState][:], 3, rng, code, in, ip)
		return matchLenMin + 8 + v, rng, code, ip
	}
	v, rng, code, ip = tree(l.high[:], 8, rng, code, in, ip)
	return matchLenMin + 16 + v, rng, code, ip
}

// lzma is the state of the LZMA decoder that LZMA2 chunks carry on from
// one to the next: the properties, the state machine, the last four
// distances and every probability.
type lzma struct {
	lc, lpMask, pbMask uint32

	state                  uint32
	rep0, rep1, rep2, rep3 uint32

	isMatch     [numStates << 4]prob
	isRep       [numStates]prob
	isRepG0     [numStates]prob
	isRepG1     [numStates]prob
	isRepG2     [numStates]prob
	isRep0Long  [numStates << 4]prob
	distSlot    [distStates][1 << distSlotBits]prob
	distSpecial [fullDistances - distModelEnd + 1]prob // index 0 unused
	align       [1 << alignBits]prob
	matchLen    lenDecoder
	repLen      lenDecoder
	literal     [literalCoders * literalProbs]prob
}

func fill(p []prob) {
	for i := range p {
		p[i] = probInit
	}
}

var errProperties = errors.New("invalid LZMA properties")

// setProperties reads the lc/lp/pb byte of an LZMA2 chunk and resets the
// state.
func (s *lzma) setProperties(b byte) error {
	if b >= 9*5*5 {
		return errProperties
	}
	lc, lp, pb := uint32(b%9), uint32(b/9%5), uint32(b/45)
	if lc+lp > 4 {
		return errProperties
	}
	s.lc, s.lpMask, s.pbMask = lc, 1<<lp-1, 1<<pb-1
	s.reset()
	return nil
}

// reset starts the state machine over with even probabilities; only the
// literal coders the properties use are reset.
func (s *lzma) reset() {
	s.state = 0
	s.rep0, s.rep1, s.rep2, s.rep3 = 0, 0, 0, 0
	fill(s.isMatch[:])
	fill(s.isRep[:])
	fill(s.isRepG0[:])
	fill(s.isRepG1[:])
	fill(s.isRepG2[:])
	fill(s.isRep0Long[:])
	for i := range s.distSlot {
		fill(s.distSlot[i][:])
	}
	fill(s.distSpecial[:])
	fill(s.align[:])
	s.matchLen.reset()
	s.repLen.reset()
	fill(s.literal[:literalProbs<<(s.lc+uint32(bitsOf(s.lpMask)))])
}

func bitsOf(mask uint32) int {
	n := 0
	for ; mask != 0; mask >>= 1 {
		n++
	}
	return n
}

var (
	errDistance  = errors.New("LZMA match reaches before the dictionary")
	errMatchLen  = errors.New("LZMA match runs past the end of its chunk")
	errChunkSize = errors.New("LZMA chunk reads past its compressed size")
)

// decode decodes symbols into out[pos:] while pos < stop, reading input
// up to inEnd; it stops only between symbols, and a match never runs past
// end (the chunk's end, at least stop). base is where the dictionary
// starts in out (the last dictionary reset) and dictSize bounds how far
// back a match may reach. It returns the new pos.
func (s *lzma) decode(r *rangeDecoder, out []byte, pos, stop, end, base int, inEnd int, dictSize uint32) (int, error) {
	rng, code, in, ip := r.rng, r.code, r.in, r.ip
	state := s.state
	rep0, rep1, rep2, rep3 := s.rep0, s.rep1, s.rep2, s.rep3
	defer func() {
		r.rng, r.code, r.ip = normalize(rng, code, in, ip)
		s.state, s.rep0, s.rep1, s.rep2, s.rep3 = state, rep0, rep1, rep2, rep3
	}()
	lc, lpMask, pbMask := s.lc, s.lpMask, s.pbMask
	var b uint32
	for pos < stop {
		if ip > inEnd {
			return pos, errChunkSize
		}
		rel := uint32(pos - base)
		posState := rel & pbMask
		if rng, code, ip, b = bit(&s.isMatch[state<<4|posState], rng, code, in, ip); b == 0 {
			// A literal, coded in the context of the byte before it and
			// the position.
			var prev uint32
			if pos > base {
				prev = uint32(out[pos-1])
			}
			ctx := (rel&lpMask)<<lc | prev>>(8-lc)
			probs := s.literal[ctx*literalProbs:][:literalProbs]
			sym := uint32(1)
			if state < 7 {
				for sym < 0x100 {
					rng, code, ip = normalize(rng, code, in, ip)
					rng, code, b = bitSelect(&probs[sym], rng, code)
					sym = sym<<1 | b
				}
			} else {
				// After a match, the byte the last distance points at
				// is the likelier guess, bit by bit, until one differs.
				at := pos - int(rep0) - 1
				if at < base {
					return pos, errDistance
				}
				match := uint32(out[at])
				offset := uint32(0x100)
				for sym < 0x100 {
					match <<= 1
					matchBit := match & offset
					rng, code, ip = normalize(rng, code, in, ip)
					rng, code, b = bitSelect(&probs[offset+matchBit+sym], rng, code)
					sym = sym<<1 | b
					offset &^= matchBit ^ -b // keeps matchBit's bit when b is 1, the others when 0
				}
			}
			out[pos] = byte(sym)
			pos++
			switch {
			case state < 4:
				state = 0
			case state < 10:
				state -= 3
			default:
				state -= 6
			}
			continue
		}
		var length uint32
		if rng, code, ip, b = bit(&s.isRep[state], rng, code, in, ip); b == 0 {
			// A match with a new distance.
			rep3, rep2, rep1 = rep2, rep1, rep0
			length, rng, code, ip = s.matchLen.decode(posState, rng, code, in, ip)
			if state < 7 {
				state = 7
			} else {
				state = 10
			}
			rep0, rng, code, ip = s.distance(length, rng, code, in, ip)
		} else {
			if rng, code, ip, b = bit(&s.isRepG0[state], rng, code, in, ip); b == 0 {
				if rng, code, ip, b = bit(&s.isRep0Long[state<<4|posState], rng, code, in, ip); b == 0 {
					// One byte at the last distance.
					if uint64(rep0) >= uint64(pos-base) || rep0 >= dictSize {
						return pos, errDistance
					}
					out[pos] = out[pos-int(rep0)-1]
					pos++
					if state < 7 {
						state = 9
					} else {
						state = 11
					}
					continue
				}
			} else {
				var dist uint32
				if rng, code, ip, b = bit(&s.isRepG1[state], rng, code, in, ip); b == 0 {
					dist = rep1
				} else {
					if rng, code, ip, b = bit(&s.isRepG2[state], rng, code, in, ip); b == 0 {
						dist = rep2
					} else {
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			length, rng, code, ip = s.repLen.decode(posState, rng, code, in, ip)
			if state < 7 {
				state = 8
			} else {
				state = 11
			}
		}
		if uint64(rep0) >= uint64(pos-base) || rep0 >= dictSize {
			return pos, errDistance
		}
		n := int(length)
		if n > end-pos {
			return pos, errMatchLen
		}
		from := pos - int(rep0) - 1
		if n <= int(rep0)+1 {
			copy(out[pos:pos+n], out[from:from+n])
		} else {
			// The match overlaps what it writes: byte by byte.
			for i := range n {
				out[pos+i] = out[from+i]
			}
		}
		pos += n
	}
	return pos, nil
}

// distance decodes the distance of a match of the given length.
func (s *lzma) distance(length, rng, code uint32, in []byte, ip int) (uint32, uint32, uint32, int) {
	lenState := min(length-matchLenMin, distStates-1)
	slot, rng, code, ip := tree(s.distSlot[lenState][:], distSlotBits, rng, code, in, ip)
	if slot < distModelStart {
		return slot, rng, code, ip
	}
	bits := uint(slot>>1 - 1)
	dist := (2 | slot&1) << bits
	var v uint32
	if slot < distModelEnd {
		// The probabilities of this slot start at dist-slot, read
		// from index 1 on.
		v, rng, code, ip = reverseTree(s.distSpecial[dist-slot:], bits, rng, code, in, ip)
		return dist + v, rng, code, ip
	}
	v, rng, code, ip = direct(bits-alignBits, rng, code, in, ip)
	dist += v << alignBits
	v, rng, code, ip = reverseTree(s.align[:], alignBits, rng, code, in, ip)
	return dist + v, rng, code, ip
}
