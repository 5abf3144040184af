package unitfile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/internal/boolean"
)

// A DropIn is one drop-in file of a unit as found on the host.
type DropIn struct {
	// Path is UNITDIR/DIR/FILE.conf: a unit directory of the search path
	// given to Merge, one of the unit's DropInDirs, the file's name.
	Path string
	Data []byte
}

// DropInDirs returns the drop-in directories systemd reads for a unit
// name, in the order it collects them within one unit directory: the
// name's own (foo-bar@x.service.d), for an instance its template's
// (foo-bar@.service.d), then those of the name's dash prefixes
// (foo-.service.d, and for an instance foo-@x.service.d and
// foo-@.service.d). The unit type's top-level directory (service.d) is not
// among them: systemd collects it from every unit directory after all of
// these (see TypeDropInDir).
func DropInDirs(name string) []string {
	var dirs []string
	var walk func(name string)
	walk = func(name string) {
		dirs = append(dirs, name+".d")
		prefix, instance, typ, ok := splitUnitName(name)
		if !ok {
			return
		}
		if instance != "" {
			walk(prefix + "@" + typ)
		}
		// The prefix up to and including its last dash, after dropping
		// one trailing dash: foo-bar-baz gives foo-bar-, foo-bar- gives
		// foo-. No dash, or only a leading one, ends the walk.
		p, chopped := prefix, false
		for {
			dash := strings.LastIndexByte(p, '-')
			if dash <= 0 {
				return
			}
			if dash+1 < len(p) || chopped {
				p = p[:dash+1]
				break
			}
			p, chopped = p[:dash], true
		}
		short := p
		if instance != "" {
			walk(short + "@" + instance + typ)
		} else {
			walk(short + typ)
		}
	}
	walk(name)
	return dedup(dirs)
}

// TypeDropInDir returns the top-level drop-in directory of a unit's type:
// "service.d" for foo.service.
func TypeDropInDir(name string) string {
	return strings.TrimPrefix(path.Ext(name), ".") + ".d"
}

// splitUnitName splits foo@x.service into foo, x, .service; a template
// (foo@.service) has the instance "" but is still split at the '@'.
func splitUnitName(name string) (prefix, instance, typ string, ok bool) {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 {
		return "", "", "", false
	}
	base, typ := name[:dot], name[dot:]
	prefix, instance, _ = strings.Cut(base, "@")
	return prefix, instance, typ, prefix != ""
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Merge returns a unit as PID 1 loads it: the unit file's assignments,
// then its drop-ins', in systemd's order, keeping only the assignments that
// are in force at the end (see Kind). Each kept assignment's Origin is the
// drop-in it comes from ("" for the unit file).
//
// names are the unit's name and then its aliases; searchPath the unit
// directories in systemd's precedence, highest first. systemd collects the
// drop-in directories of the name (DropInDirs) under every unit directory
// in turn, then those of each alias, then the type's (TypeDropInDir); a
// file name found again later is hidden by the first; the files are applied
// sorted by file name, whatever their directory. A drop-in that does not
// lie in one of these directories is not the unit's: it is left out, with
// a Problem. A drop-in that cannot be parsed counts up to the line that
// fails, as in systemd.
func Merge(names []string, unit *File, searchPath []string, dropins []DropIn) *File {
	out := &File{Problems: append([]string(nil), unit.Problems...)}
	type ranked struct {
		rank [3]int // name (len(names) for the type), unit directory, place among the name's directories
		file string
		d    DropIn
	}
	chosen := map[string]ranked{}
	for _, d := range dropins {
		r, file, ok := dropInRank(names, searchPath, d.Path)
		if !ok {
			out.Problems = append(out.Problems, fmt.Sprintf("%s: not a drop-in of %s, ignoring", d.Path, names[0]))
			continue
		}
		if prev, seen := chosen[file]; !seen || less(r, prev.rank) {
			chosen[file] = ranked{rank: r, file: file, d: d}
		}
	}
	order := make([]ranked, 0, len(chosen))
	for _, r := range chosen {
		order = append(order, r)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].file < order[j].file })

	all := append([]Assignment(nil), unit.Assignments...)
	for _, r := range order {
		f, err := parse(r.d.Data)
		if err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("%s: %v (the lines before it apply)", r.d.Path, err))
		}
		for _, p := range f.Problems {
			out.Problems = append(out.Problems, r.d.Path+": "+p)
		}
		for _, a := range f.Assignments {
			a.Origin = r.d.Path
			all = append(all, a)
		}
	}
	out.Assignments = effective(all)
	return out
}

// dropInRank places a drop-in's path among the directories systemd reads
// for names: ok is false when it is none of them, or not a *.conf file
// systemd reads (hidden files are skipped).
func dropInRank(names, searchPath []string, p string) (rank [3]int, file string, ok bool) {
	dir, file := path.Split(p)
	unitDir, dirName := path.Split(strings.TrimSuffix(dir, "/"))
	at := indexOf(searchPath, strings.TrimSuffix(unitDir, "/"))
	if at < 0 || !strings.HasSuffix(file, ".conf") || strings.HasPrefix(file, ".") {
		return rank, file, false
	}
	for i, n := range names {
		if pos := indexOf(DropInDirs(n), dirName); pos >= 0 {
			return [3]int{i, at, pos}, file, true
		}
	}
	if dirName == TypeDropInDir(names[0]) {
		return [3]int{len(names), at, 0}, file, true
	}
	return rank, file, false
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// effective keeps the assignments in force after all of them are applied
// in order (see Kind).
func effective(all []Assignment) []Assignment {
	alive := make([]bool, len(all))
	// The assignments alive so far of each section and setting group, as
	// a chain: last holds the latest one's index, prev[i] the one before
	// i (-1: none). A reset empties a group's chain.
	prev := make([]int, len(all))
	last := make(map[[2]string]int, len(all))
	reset := func(k [2]string) {
		if j, ok := last[k]; ok {
			for ; j >= 0; j = prev[j] {
				alive[j] = false
			}
			last[k] = -1
		}
	}
	n := 0
	for i, a := range all {
		s, _ := lookup(a.Section, a.Key)
		group := a.Key
		if s.group != "" {
			group = s.group
		}
		k := [2]string{a.Section, group}
		switch s.kind {
		case Additive:
		case List:
			if a.Value == "" {
				reset(k)
			}
		case Single:
			reset(k)
		case Last:
			if a.Value == "" {
				continue // PID 1 ignores it
			}
			if _, ok := boolean.Parse(a.Value); s.boolean && !ok {
				continue
			}
			reset(k)
		}
		alive[i] = true
		n++
		if j, ok := last[k]; ok {
			prev[i] = j
		} else {
			prev[i] = -1
		}
		last[k] = i
	}
	out := make([]Assignment, 0, n)
	for i, a := range all {
		if alive[i] {
			out = append(out, a)
		}
	}
	return out
}
