package fstest

import (
	"bytes"
	"math/rand/v2"
	"strings"
)

// Sample is n bytes shaped like a package tree's small files, the same for
// the same seed, for the block decoders' tests: text with repeats near and
// far, runs, and some noise that a compressor stores as is.
func Sample(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields("[Unit] Description= After=network.target [Service] ExecStart=/usr/sbin/daemon --config /etc/daemon.conf Restart=on-failure PIDFile=/run/daemon.pid [Install] WantedBy=multi-user.target # ID=debian VERSION_ID=12 PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"")
	var b bytes.Buffer
	for b.Len() < n {
		switch rng.IntN(10) {
		case 0: // noise
			for range rng.IntN(300) {
				b.WriteByte(byte(rng.Uint32()))
			}
		case 1: // a copy of something far back
			if b.Len() > 1000 {
				at := rng.IntN(b.Len() - 500)
				b.Write(bytes.Clone(b.Bytes()[at : at+rng.IntN(500)]))
			}
		case 2: // a run
			b.Write(bytes.Repeat([]byte{byte(rng.IntN(4))}, rng.IntN(400)))
		default:
			for range rng.IntN(40) {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(" \n="[rng.IntN(3)])
			}
		}
	}
	return b.Bytes()[:n]
}
