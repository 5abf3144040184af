package generator

import (
	"fmt"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/portable-generator/portable-generator/internal/text"
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
		reason := r.Reason
		switch {
		case len(r.Refusals) > 1:
			// All of them are in inspect; a table row names the first.
			reason = fmt.Sprintf("%d lines refused (see inspect), the first: %s", len(r.Refusals), r.Refusals[0].Error())
		case reason == "" && len(r.Layers) > 0:
			reason = layersLine(r.Layers)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", OneLine(r.Name), r.State, OneLine(r.Path), OneLine(dash(r.Profile)),
			OneLine(dash(strings.Join(r.Units, ","))), OneLine(reason))
	}
	tw.Flush()
}

// layersLine says what a layered attachment is made of, for list: "over
// BASE (PATH) with EXT, EXT".
func layersLine(layers []plan.LayerReport) string {
	s := "over " + layers[0].Name + " (" + layers[0].Path + ")"
	var exts []string
	for _, l := range layers[1:] {
		exts = append(exts, l.Name)
	}
	if len(exts) > 0 {
		s += " with " + strings.Join(exts, ", ")
	}
	return s
}

// OneLine makes text from an image safe for one line of a table or a
// terminal: an image can put newlines and escape sequences into what we
// print (a file name, an os-release value).
func OneLine(s string) string { return text.Escape(s) }
