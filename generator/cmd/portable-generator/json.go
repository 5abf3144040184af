package main

import (
	"encoding/json"

	"github.com/portable-generator/portable-generator/generator"
)

// printJSON writes v as --json asked: indented (pretty) or on one line
// (short), as systemd's tools do.
func printJSON(inv *invocation, v any) int {
	enc := json.NewEncoder(inv.stdout)
	if inv.json != "short" {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		inv.errorf("%v", err)
		return exitFailure
	}
	return exitOK
}

// nonNil makes an empty list print as [], not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// reportJSON is a report as --json prints it: every list a list, [] when
// empty (a skipped image has no units), so that a script can iterate
// without a null check.
func reportJSON(r generator.Report) generator.Report {
	r.Units = nonNil(r.Units)
	return r
}

func reportsJSON(reports []generator.Report) []generator.Report {
	out := make([]generator.Report, 0, len(reports))
	for _, r := range reports {
		out = append(out, reportJSON(r))
	}
	return out
}
