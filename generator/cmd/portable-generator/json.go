package main

import "encoding/json"

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
