// Package generator is portable-generator's core: it decides, from the
// images found in the portable search directories, which unit files to
// attach and with what drop-ins, the way portablectl attach would, and
// writes them into the generator output directory.
//
// The work is split as Quadlet splits it. Package host does every read:
// the root and its trust rule, the search directories, settings, profiles,
// the host inventory, the images themselves (through package dissect,
// never by mounting). Package plan is pure: images and the inventory in,
// files and one report per image out, which is what the golden tests
// check. [GenerateInto] is generator mode: it writes each image's files
// into the output directory, drop-ins before units, as soon as the image
// is planned, within the run's deadline. [Generate] is the same run with
// the answer in memory (list, inspect, --dry-run).
package generator
