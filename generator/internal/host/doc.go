// Package host is the only part of the generator that reads the disk: the
// root tree and its trust rule, the portable search directories, the admin's
// settings and profiles, the images themselves (through package dissect,
// never by mounting), and the host inventory — the names the host already
// holds, which no image may claim.
//
// Everything it returns is a plain value for package plan, which decides;
// problems stay errors (wrapping ErrUntrusted, dissect's sentinels, …) until
// plan turns them into the reason an admin reads.
package host
