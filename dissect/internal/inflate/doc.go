// Package inflate decodes raw DEFLATE streams (RFC 1951), the data of the
// zlib streams SquashFS stores its gzip blocks in, as far as a reader asks
// and no further.
//
// It decodes into a flat buffer the caller provides, which is the whole
// block: the buffer is both the output and the 32 KiB window, so nothing is
// copied out of a window and nothing is allocated while decoding. A reader
// that wants the first 5 KiB of a fragment block decodes those and stops; a
// later call goes on from there.
//
// The decoding loop reads the input 64 bits at a time and resolves a
// literal/length code in one table lookup for codes of up to 11 bits (two
// for longer ones), as libdeflate does. Measured when it replaced
// github.com/klauspost/compress/flate: BenchmarkDissect's gzip image (a
// small test tree) went from 170 to 113 µs per image, and the generator's
// CPU over 1,000 images of real package trees fell by about 8% (0.80 to
// 0.73 s); the decoder alone was not timed against flate on real blocks.
//
// # Security
//
// Every byte of the stream is untrusted. The output never grows past the
// buffer given (a longer stream is an error, not a reallocation); a match
// may reach back only into what the stream decoded; the input is decoded
// from a copy padded with zeros, so the bit reader never reads outside it,
// and a stream that needs bits past its end is truncated, an error. Huffman
// codes are checked as compress/flate checks them (complete, or a single
// code of one bit), and the package's fuzz test holds its output to
// compress/flate's on every stream.
package inflate
