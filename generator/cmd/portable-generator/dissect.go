package main

import (
	"fmt"
	"io"

	"github.com/portable-generator/portable-generator/dissect"
)

func dissectCmd(args []string, stdout, stderr io.Writer) int {
	fl, js, ok := jsonFlag("dissect", args, stderr)
	if !ok || fl.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: portable-generator dissect [--json] PATH")
		return 2
	}
	img, err := dissect.Open(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "portable-generator: %s: %v\n", fl.Arg(0), err)
		return 1
	}
	defer img.Close()
	r := img.Report(fl.Arg(0))
	if *js {
		return printJSON(stdout, r)
	}
	r.WriteText(stdout)
	return 0
}
