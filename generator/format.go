package generator

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteDryRun prints files as --dry-run does: "# PATH" and the content, or
// "# PATH -> TARGET" for a symlink.
func WriteDryRun(w io.Writer, files []File) {
	for _, f := range files {
		if f.Link != "" {
			fmt.Fprintf(w, "# %s -> %s\n", f.Path, f.Link)
			continue
		}
		fmt.Fprintf(w, "# %s\n", f.Path)
		w.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
}

// WriteList prints the reports as a table, as `list` does.
func WriteList(w io.Writer, reports []Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPATH\tPROFILE\tUNITS\tREASON")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.State, r.Path, dash(r.Profile),
			dash(strings.Join(r.Units, ",")), OneLine(r.Reason))
	}
	tw.Flush()
}

// OneLine keeps a reason on one line of a table or log: an image can put
// newlines into what we print (a file name).
func OneLine(s string) string { return strings.NewReplacer("\n", `\n`, "\t", " ").Replace(s) }
