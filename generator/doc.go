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
// check. [Generate] runs them; [Write] puts the files into the output
// directory, drop-ins before units.
package generator
