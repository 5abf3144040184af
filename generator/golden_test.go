package generator

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portable-generator/portable-generator/profiles"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want/ sections of testdata/*.txtar (review them before committing)")

// TestGolden runs the generator on each testdata/*.txtar case: the root/
// files form the tree given as --root, "args" may set --systemd-version=N,
// and want/files and want/list are the expected --dry-run and list output
// (list followed by the run's warnings).
//
// Archive names may carry " -> TARGET" (a symlink) and " mode=0NNN"; a
// name ending in "/" is an empty directory.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c), ".txtar"), func(t *testing.T) { runGolden(t, c) })
	}
}

func runGolden(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Root: root, Parallelism: 2}
	for _, f := range ar.Files {
		switch {
		case f.Name == "args":
			for _, a := range strings.Fields(string(f.Data)) {
				if v, ok := strings.CutPrefix(a, "--systemd-version="); ok {
					cfg.SystemdVersion, _ = strconv.Atoi(v)
				}
			}
		case strings.HasPrefix(f.Name, "root/"):
			materialize(t, root, f)
		}
	}
	out, host, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One worker writes images in NAME order, so in conflicts.txtar image
	// foo is written first and must be taken back when foo-bar wins.
	sequential := cfg
	sequential.Parallelism = 1
	checkStreamed(t, sequential, out)
	checkStreamed(t, cfg, out)
	var files, list bytes.Buffer
	WriteDryRun(&files, abbreviateProfiles(out.Files, host.SystemdVersion))
	WriteList(&list, out.Reports)
	for _, w := range out.Warnings {
		fmt.Fprintf(&list, "warning: %s\n", w)
	}
	got := map[string][]byte{"want/files": files.Bytes(), "want/list": list.Bytes()}
	if *update {
		var kept []txtar.File
		for _, f := range ar.Files {
			if !strings.HasPrefix(f.Name, "want/") {
				kept = append(kept, f)
			}
		}
		ar.Files = append(kept, txtar.File{Name: "want/files", Data: got["want/files"]}, txtar.File{Name: "want/list", Data: got["want/list"]})
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, f := range ar.Files {
		if g, ok := got[f.Name]; ok {
			if diff := cmp.Diff(string(f.Data), string(g)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", f.Name, diff)
			}
			delete(got, f.Name)
		}
	}
	for name := range got {
		t.Errorf("%s missing from the archive (run with -update and review)", name)
	}
}

// checkStreamed runs the generator as systemd does, writing image by image,
// and checks that it leaves exactly the files and reports of the answer in
// memory: conflicts settled at the end take back what a losing image wrote.
func checkStreamed(t *testing.T, cfg Config, want Output) {
	t.Helper()
	dir := t.TempDir()
	got, _, err := GenerateInto(context.Background(), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(reportLines(want.Reports), reportLines(got.Reports)); diff != "" {
		t.Errorf("streamed reports (-memory +streamed):\n%s", diff)
	}
	wantTree := map[string]string{}
	for _, f := range want.Files {
		if f.Link != "" {
			wantTree[f.Path] = "-> " + f.Link
		} else {
			wantTree[f.Path] = string(f.Data)
		}
	}
	gotTree := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			gotTree[rel] = "-> " + l
		} else {
			b, _ := os.ReadFile(p)
			gotTree[rel] = string(b)
		}
		return nil
	})
	if diff := cmp.Diff(wantTree, gotTree); diff != "" {
		t.Errorf("streamed output directory (-memory +streamed):\n%s", diff)
	}
}

func reportLines(rs []Report) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %s %s %v %s", r.Name, r.State, r.Path, r.Units, r.Reason))
	}
	return out
}

// materialize creates one archive entry under root.
func materialize(t *testing.T, root string, f txtar.File) {
	t.Helper()
	name, mode := f.Name, os.FileMode(0)
	if i := strings.Index(name, " mode="); i >= 0 {
		m, err := strconv.ParseUint(name[i+6:], 8, 32)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		name, mode = name[:i], os.FileMode(m)
	}
	name, link, isLink := strings.Cut(name, " -> ")
	p := filepath.Join(root, strings.TrimPrefix(name, "root/"))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	switch {
	case isLink:
		if err := os.Symlink(link, p); err != nil {
			t.Fatal(err)
		}
		return
	case strings.HasSuffix(name, "/"):
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if mode == 0 {
			mode = 0o755
		}
	default:
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		if mode == 0 {
			mode = 0o644
		}
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// abbreviateProfiles replaces a built-in profile's content by one line
// naming it, so the golden files show what is particular to each case; the
// profiles' own content is tested in package profiles and in case "basic".
func abbreviateProfiles(files []File, version int) []File {
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = f
		if !strings.HasSuffix(f.Path, "/10-profile.conf") || f.Image == "full-profile" {
			continue
		}
		for _, n := range profiles.Names {
			if b, _ := profiles.Builtin(n, version); bytes.Equal(b, f.Data) {
				out[i].Data = []byte(fmt.Sprintf("<built-in profile %s for systemd %d>\n", n, version))
			}
		}
	}
	return out
}
