package erofs

import (
	"path"
	"sort"
	"strings"
	"testing"
)

// census counts the kinds of storage the files of an image use, so a test
// can check that the image it built exercises what it means to: a test of
// fragments whose mkfs wrote none would prove nothing.
func census(t testing.TB, e *FS) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var walk func(dir *Inode, p string)
	var count func(ino *Inode, name string)
	walk = func(dir *Inode, p string) {
		ents, err := e.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, de := range ents {
			n, err := e.Lookup(dir, de.Name)
			if err != nil {
				t.Fatalf("%s/%s: %v", p, de.Name, err)
			}
			ino := n.(*Inode)
			switch ino.layout {
			case layoutFlatPlain:
				seen["flat-plain"]++
			case layoutFlatInline:
				seen["flat-inline"]++
			case layoutChunkBased:
				seen["chunk-based"]++
				if ino.chunkIndexes {
					seen["chunk-indexes"]++
				}
			case layoutCompressedFull:
				seen["full-indexes"]++
			case layoutCompressedCompact:
				seen["compact-indexes"]++
			}
			if ino.mode.IsDir() {
				walk(ino, path.Join(p, de.Name))
				continue
			}
			count(ino, path.Join(p, de.Name))
		}
	}
	count = func(ino *Inode, name string) {
		if ino.extended {
			seen["extended"]++
		} else {
			seen["compact"]++
		}
		switch ino.layout {
		case layoutFlatPlain:
			seen["flat-plain"]++
		case layoutFlatInline:
			seen["flat-inline"]++
		case layoutChunkBased:
			seen["chunk-based"]++
			if ino.chunkIndexes {
				seen["chunk-indexes"]++
			}
		case layoutCompressedFull:
			seen["full-indexes"]++
		case layoutCompressedCompact:
			seen["compact-indexes"]++
		}
		if ino.dataPos-ino.pos > extendedInodeSize || !ino.extended && ino.dataPos-ino.pos > compactInodeSize {
			seen["xattrs"]++
		}
		if !ino.compressed() || ino.size == 0 {
			return
		}
		z, err := e.readZInfo(ino)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if z.advise&adviseCompacted2B != 0 && ino.layout == layoutCompressedCompact {
			seen["compact-2B"]++
		}
		for off := uint64(0); off < ino.size; {
			x, err := e.mapAt(ino, &z, off)
			if err != nil {
				t.Fatalf("%s at %d: %v", name, off, err)
			}
			switch x.kind {
			case extentEncoded:
				seen[algName(x.alg)]++
			case extentShifted:
				seen["uncompressed"]++
			case extentInterlaced:
				seen["interlaced"]++
			case extentFragment:
				seen["fragment"]++
			}
			if x.kind != extentFragment && x.headType == lclusterHead2 {
				seen["head2"]++
			}
			if x.inline {
				seen["inline-pcluster"]++
			}
			if x.partialRef {
				seen["partial-ref"]++
			}
			if x.plen > uint64(e.sb.BlockSize) {
				seen["big-pcluster"]++
			}
			off = x.la + x.llen
		}
	}
	root, err := e.Root()
	if err != nil {
		t.Fatal(err)
	}
	walk(root.(*Inode), "")
	if e.sb.PackedNid != 0 {
		packed, err := e.inode(e.sb.PackedNid)
		if err != nil {
			t.Fatal(err)
		}
		count(packed, "packed inode")
	}
	return seen
}

// checkCensus fails the test if the image lacks a kind of storage it was
// built to have.
func checkCensus(t testing.TB, e *FS, want []string) {
	t.Helper()
	seen := census(t, e)
	t.Log(describe(seen))
	for _, w := range want {
		if seen[w] == 0 {
			t.Errorf("the image has no %s", w)
		}
	}
}

func describe(seen map[string]int) string {
	var keys []string
	for k, v := range seen {
		keys = append(keys, k+"="+itoa(v))
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}
