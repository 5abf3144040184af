package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// memFS is a vfs.FS over a map of paths, for testing the resolver on its own.
type memFS map[string]*memNode

type memNode struct {
	path  string
	mode  fs.FileMode
	data  string // content, or the target of a symlink
	mtime time.Time
}

func (n *memNode) Mode() fs.FileMode  { return n.mode }
func (n *memNode) Size() int64        { return int64(len(n.data)) }
func (n *memNode) ModTime() time.Time { return n.mtime }

// newMemFS builds a file system from "path" -> "content" ("dir/" for
// directories, "->target" for symlinks); parent directories are implied.
func newMemFS(files map[string]string) memFS {
	m := memFS{".": {path: ".", mode: fs.ModeDir | 0o755}}
	for p, c := range files {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			m[d] = &memNode{path: d, mode: fs.ModeDir | 0o755}
		}
		switch {
		case strings.HasSuffix(p, "/"):
			p = strings.TrimSuffix(p, "/")
			m[p] = &memNode{path: p, mode: fs.ModeDir | 0o755}
		case strings.HasPrefix(c, "->"):
			m[p] = &memNode{path: p, mode: fs.ModeSymlink | 0o777, data: c[2:]}
		default:
			m[p] = &memNode{path: p, mode: 0o644, data: c}
		}
	}
	return m
}

func (m memFS) Root() (Node, error) { return m["."], nil }
func (m memFS) Lookup(dir Node, name string) (Node, error) {
	n, ok := m[path.Join(dir.(*memNode).path, name)]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return n, nil
}
func (m memFS) ReadDir(dir Node) ([]DirEntry, error) {
	var out []DirEntry
	d := dir.(*memNode).path
	for p, n := range m {
		if p != "." && path.Dir(p) == d {
			out = append(out, DirEntry{Name: path.Base(p), Type: n.mode.Type()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name }) // any order
	return out, nil
}
func (m memFS) Readlink(link Node) (string, error) { return link.(*memNode).data, nil }
func (m memFS) Open(file Node) (io.ReaderAt, error) {
	return bytes.NewReader([]byte(file.(*memNode).data)), nil
}

func TestTreeResolution(t *testing.T) {
	root := newMemFS(map[string]string{
		"etc/os-release":  "->../usr/lib/os-release",
		"etc/abs":         "->/usr/lib/os-release",
		"etc/escape":      "->../../../../../etc/shadow",
		"etc/dotdot-root": "->/../../usr/lib/os-release",
		"etc/loop":        "->loop",
		"etc/empty":       "->",
		"lib":             "->usr/lib",
		"usr/":            "",
	})
	usr := newMemFS(map[string]string{
		"lib/os-release":                   "ID=split\n",
		"lib/systemd/system/a.service":     "[Service]\n",
		"lib/systemd/system/alias.service": "->/usr/lib/systemd/system/a.service",
		"lib/systemd/system/up.service":    "->../../../../../../lib/systemd/system/a.service",
		"lib/file":                         "x",
	})
	b := NewBudget(Limits{Hops: 8})
	tree := NewTree(root, map[string]FS{"usr": usr}, b)
	for _, tc := range []struct {
		name    string
		want    string
		wantErr error
	}{
		{"etc/os-release", "ID=split\n", nil},                     // relative link crossing into the usr mount
		{"etc/abs", "ID=split\n", nil},                            // absolute link, re-rooted
		{"etc/dotdot-root", "ID=split\n", nil},                    // ".." at the root stays at the root
		{"lib/systemd/system/alias.service", "[Service]\n", nil},  // directory link then absolute link
		{"usr/lib/systemd/system/up.service", "[Service]\n", nil}, // ".." climbs out of the mount, clamped at /
		{"etc/escape", "", fs.ErrNotExist},                        // no host files, ever
		{"etc/loop", "", ErrLoop},                                 // bounded hops
		{"etc/empty", "", fs.ErrNotExist},                         // empty target
		{"usr/lib/file/below", "", fs.ErrNotExist},                // a file is not a directory
	} {
		got, err := fs.ReadFile(tree, tc.name)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if got, err := tree.Resolve("/lib/systemd/system/alias.service"); err != nil || got != "/usr/lib/systemd/system/a.service" {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	if st := b.Stats(); st.Hops == 0 {
		t.Errorf("hops were not counted: %+v", st)
	}
	// Lstat and ReadLink do not follow the final link.
	if fi, err := tree.Lstat("etc/abs"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(etc/abs) = %v, %v", fi, err)
	}
	if target, err := fs.ReadLink(tree, "lib"); err != nil || target != "usr/lib" {
		t.Errorf("ReadLink(lib) = %q, %v", target, err)
	}
	// The root lists the mount; the mounted tree passes fstest.
	ents, err := fs.ReadDir(tree, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "etc lib usr" {
		t.Errorf("root entries = %q", names)
	}
	sub, _ := fs.Sub(tree, "usr/lib/systemd")
	if err := fstest.TestFS(sub, "system/a.service", "system/alias.service"); err != nil {
		t.Error(err)
	}
}

func TestTreeUsrOnly(t *testing.T) {
	usr := newMemFS(map[string]string{"lib/os-release": "ID=usronly\n"})
	tree := NewTree(nil, map[string]FS{"usr": usr}, nil)
	got, err := fs.ReadFile(tree, "usr/lib/os-release")
	if err != nil || string(got) != "ID=usronly\n" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := fs.Stat(tree, "etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("etc/os-release on a /usr-only image: %v", err)
	}
	if err := fstest.TestFS(tree, "usr/lib/os-release"); err != nil {
		t.Error(err)
	}
}

// A size field claiming more than MaxReadFile is refused before allocating.
func TestReadFileRefusesHugeSizes(t *testing.T) {
	tree := NewTree(hugeFS{newMemFS(map[string]string{"big": "x"})}, nil, nil)
	if _, err := fs.ReadFile(tree, "big"); !errors.Is(err, ErrFileTooLarge) || !errors.Is(err, ErrBudget) {
		t.Errorf("err = %v, want ErrFileTooLarge and ErrBudget", err)
	}
}

// The budget's FileSize caps what ReadFile and Open serve, before the
// reader is asked for a byte; Stat still tells the size.
func TestFileSizeLimit(t *testing.T) {
	files := map[string]string{"at-the-cap": strings.Repeat("x", 64), "over-the-cap": strings.Repeat("x", 65)}
	m := countingFS{memFS: newMemFS(files)}
	tree := NewTree(&m, nil, NewBudget(Limits{FileSize: 64}))
	if b, err := fs.ReadFile(tree, "at-the-cap"); err != nil || len(b) != 64 {
		t.Errorf("at the cap: %d bytes, %v", len(b), err)
	}
	opened := m.opened
	if _, err := fs.ReadFile(tree, "over-the-cap"); !errors.Is(err, ErrFileTooLarge) || !errors.Is(err, ErrBudget) {
		t.Errorf("ReadFile over the cap: %v, want ErrFileTooLarge", err)
	}
	if _, err := tree.Open("over-the-cap"); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("Open over the cap: %v, want ErrFileTooLarge", err)
	}
	if m.opened != opened {
		t.Errorf("the reader opened a file over the cap")
	}
	if fi, err := fs.Stat(tree, "over-the-cap"); err != nil || fi.Size() != 65 {
		t.Errorf("Stat over the cap: %v, %v", fi, err)
	}
	// Without a budget, MaxReadFile is the cap.
	if err := (*Budget)(nil).CheckFileSize(MaxReadFile + 1); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("no budget: %v", err)
	}
	if err := NewBudget(Limits{}).CheckFileSize(MaxReadFile); err != nil {
		t.Errorf("no FileSize limit: %v", err)
	}
}

// FileBytes bounds the content served in all, file after file.
func TestFileBytesLimit(t *testing.T) {
	files := map[string]string{"a": strings.Repeat("x", 40), "b": strings.Repeat("x", 40), "c": strings.Repeat("x", 40)}
	b := NewBudget(Limits{FileBytes: 100})
	tree := NewTree(newMemFS(files), nil, b)
	for _, name := range []string{"a", "b"} {
		if _, err := fs.ReadFile(tree, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := fs.ReadFile(tree, "c"); !errors.Is(err, ErrBudget) || errors.Is(err, ErrFileTooLarge) {
		t.Errorf("past 100 bytes served: %v, want ErrBudget (not too large)", err)
	}
}

// countingFS counts the files its reader was asked to open.
type countingFS struct {
	memFS
	opened int
}

func (c *countingFS) Open(file Node) (io.ReaderAt, error) {
	c.opened++
	return c.memFS.Open(file)
}

type hugeFS struct{ memFS }

type hugeNode struct{ *memNode }

func (hugeNode) Size() int64 { return 1 << 50 }

func (h hugeFS) Lookup(dir Node, name string) (Node, error) {
	if d, ok := dir.(hugeNode); ok {
		dir = d.memNode
	}
	n, err := h.memFS.Lookup(dir, name)
	if err != nil || !n.Mode().IsRegular() {
		return n, err
	}
	return hugeNode{n.(*memNode)}, nil
}

func TestBudget(t *testing.T) {
	b := NewBudget(Limits{BytesRead: 10, Entries: 2})
	r := CountingReaderAt{R: strings.NewReader(strings.Repeat("x", 100)), B: b}
	buf := make([]byte, 8)
	if _, err := r.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(buf, 8); !errors.Is(err, ErrBudget) {
		t.Errorf("second read: %v, want ErrBudget", err)
	}
	if err := b.Entries(3); !errors.Is(err, ErrBudget) {
		t.Errorf("entries: %v", err)
	}
	var nilBudget *Budget
	if err := nilBudget.Read(1 << 40); err != nil {
		t.Errorf("nil budget refused: %v", err)
	}
}

// Decompression is bounded by what was read: a ratio and a slack, on
// top of the total.
func TestDecompressionRatio(t *testing.T) {
	b := NewBudget(Limits{DecompressRatio: 4, DecompressSlack: 100})
	if err := b.Decompress(100); err != nil {
		t.Fatalf("the slack: %v", err)
	}
	if err := b.Decompress(1); !errors.Is(err, ErrBudget) {
		t.Errorf("past the slack with nothing read: %v", err)
	}
	b = NewBudget(Limits{DecompressRatio: 4, DecompressSlack: 100})
	b.Read(50)
	if err := b.Decompress(300); err != nil {
		t.Errorf("4 x 50 + 100: %v", err)
	}
	if err := b.Decompress(1); !errors.Is(err, ErrBudget) {
		t.Errorf("past 4 x 50 + 100: %v", err)
	}
	// Without a ratio only the total counts.
	b = NewBudget(Limits{Decompressed: 1000})
	if err := b.Decompress(1000); err != nil {
		t.Errorf("no ratio: %v", err)
	}
}

// Buffers held are counted, their peak kept, the Memory limit enforced.
func TestMemory(t *testing.T) {
	b := NewBudget(Limits{Memory: 100})
	if err := b.Alloc(60); err != nil {
		t.Fatal(err)
	}
	if err := b.Alloc(41); !errors.Is(err, ErrBudget) {
		t.Errorf("101 bytes held: %v", err)
	}
	b.Free(60)
	if err := b.Alloc(90); err != nil {
		t.Errorf("90 held after 60 freed: %v", err)
	}
	b.Free(90)
	st := b.Stats()
	if st.Allocated != 150 || st.PeakMemory != 90 || b.Held() != 0 {
		t.Errorf("allocated %d, peak %d, held %d; want 150, 90, 0", st.Allocated, st.PeakMemory, b.Held())
	}
	var none *Budget
	if err := none.Alloc(1 << 40); err != nil {
		t.Error(err)
	}
	none.Free(1)
}

func TestErrorKinds(t *testing.T) {
	c := Corruptf("gpt header", 512, "bad CRC")
	if !errors.Is(c, ErrCorrupt) || errors.Is(c, ErrUnsupported) {
		t.Errorf("corrupt error kind wrong: %v", c)
	}
	if c.Error() != "corrupt gpt header at byte 512: bad CRC" {
		t.Errorf("message %q", c)
	}
	u := Unsupportedf("btrfs file system")
	if !errors.Is(u, ErrUnsupported) || errors.Is(u, ErrCorrupt) {
		t.Errorf("unsupported error kind wrong: %v", u)
	}
}

// cycleFS has a directory that contains itself, as a hostile image can
// claim; its reader charges nothing, as a reader with caches may not.
type cycleFS struct{ memFS }

func (c cycleFS) Lookup(dir Node, name string) (Node, error) {
	if name == "again" {
		return dir, nil
	}
	return c.memFS.Lookup(dir, name)
}

func (c cycleFS) ReadDir(dir Node) ([]DirEntry, error) {
	ents, err := c.memFS.ReadDir(dir)
	return append(ents, DirEntry{Name: "again", Type: fs.ModeDir}), err
}

// A walk down a directory cycle ends in the budget, not in time: every
// path step is charged by the tree itself.
func TestDirectoryCycleRunsOutOfBudget(t *testing.T) {
	b := NewBudget(Limits{Entries: 5000})
	tree := NewTree(cycleFS{newMemFS(map[string]string{"loop/file": "x"})}, nil, b)
	names, budgetErrors := 0, 0
	fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		names++
		if errors.Is(err, ErrBudget) {
			budgetErrors++
		}
		return nil
	})
	if budgetErrors == 0 || names > 5000 {
		t.Errorf("walked %d names, %d budget errors", names, budgetErrors)
	}
	t.Logf("walked %d names before the budget ran out: %+v", names, b.Stats())
}

func TestAsDir(t *testing.T) {
	m := newMemFS(map[string]string{"d/": "", "f": "x"})
	if d, err := AsDir[*memNode](m["d"]); err != nil || d != m["d"] {
		t.Errorf("a directory: %v, %v", d, err)
	}
	if _, err := AsDir[*memNode](m["f"]); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("a file: %v, want fs.ErrInvalid", err)
	}
	if _, err := AsDir[*memNode](hugeNode{m["d"]}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("another reader's node: %v, want fs.ErrInvalid", err)
	}
}
