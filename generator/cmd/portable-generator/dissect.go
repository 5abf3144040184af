package main

import (
	"github.com/portable-generator/portable-generator/dissect"
)

// dissectVerb prints what the image reader sees in one image.
func dissectVerb(inv *invocation) int {
	path := inv.operands[0]
	img, err := dissect.Open(path)
	if err != nil {
		inv.errorf("%s: %v", path, err)
		return exitFailure
	}
	defer img.Close()
	r := img.Report(path)
	if inv.json != "" {
		return printJSON(inv, r)
	}
	r.WriteText(inv.stdout)
	return exitOK
}
