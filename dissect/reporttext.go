package dissect

import (
	"fmt"
	"io"
	"path"
	"text/tabwriter"

	"github.com/portable-generator/portable-generator/internal/text"
)

// WriteText prints the report for people, in the spirit of systemd-dissect.
// Everything read from the image (names, os-release values, labels) goes
// through text.Escape: an image must not reach the admin's terminal.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "      Name: %s\n", text.Escape(r.Name))
	fmt.Fprintf(w, "      Kind: %s", r.Kind)
	if r.PartitionTable != "" {
		fmt.Fprintf(w, " (%s partition table)", r.PartitionTable)
	}
	fmt.Fprintln(w)
	if r.Size > 0 {
		fmt.Fprintf(w, "      Size: %d bytes\n", r.Size)
	}
	if r.Hostname != "" {
		fmt.Fprintf(w, "  Hostname: %s\n", r.Hostname)
	}
	if r.MachineID != "" {
		fmt.Fprintf(w, "Machine ID: %s\n", r.MachineID)
	}
	writeLabelled(w, "Mach. Info:", r.MachineInfo)
	writeLabelled(w, "OS Release:", r.OSRelease)
	writeLabelled(w, " Ext. Rel.:", r.ExtensionRelease)
	var units []string
	for _, u := range r.Units {
		units = append(units, path.Base(u))
	}
	writeLabelled(w, "     Units:", units)
	mark := func(b bool) string {
		if b {
			return "yes"
		}
		return "no "
	}
	fmt.Fprintf(w, "    Use As: %s bootable system for UEFI\n", mark(r.UseBootableUEFI))
	for _, u := range []struct {
		ok   bool
		what string
	}{
		{r.UseBootableContainer, "bootable system for container"},
		{r.UsePortableService, "portable service"},
		{r.UseSystemExtension, "extension for system"},
		{r.UseInitRDExtension, "extension for initrd"},
		{r.UsePortableExtension, "extension for portable service"},
	} {
		fmt.Fprintf(w, "            %s %s\n", mark(u.ok), u.what)
	}
	if len(r.Mounts) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
		fmt.Fprintln(tw, "RW\tDESIGNATOR\tPARTITION UUID\tPARTITION LABEL\tFSTYPE\tARCHITECTURE\tVERITY\tGROWFS\tNODE\tPARTNO")
		str := func(p *string) string {
			if p == nil {
				return "-"
			}
			return text.Escape(*p)
		}
		for _, m := range r.Mounts {
			partno := "-"
			if m.PartNo != nil {
				partno = fmt.Sprint(*m.PartNo)
			}
			growfs := "no"
			if m.GrowFS {
				growfs = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.RW, m.Designator, str(m.PartitionUUID), str(m.PartitionLabel),
				text.Escape(m.FSType), str(m.Architecture), str(m.Verity), growfs, str(m.Node), partno)
		}
		tw.Flush()
	}
}

// writeLabelled prints a list under a label, the label on the first line
// only.
func writeLabelled(w io.Writer, label string, lines []string) {
	for i, l := range lines {
		if i > 0 {
			label = "           "
		}
		fmt.Fprintf(w, "%s %s\n", label, text.Escape(l))
	}
}
