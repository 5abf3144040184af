// Package generator is portable-generator's core: it decides, from the
// images found in the portable search directories, which unit files to
// attach and with what drop-ins, the way portablectl attach would, and
// renders them as files for the generator output directory.
//
// The work is split as Quadlet splits it. [Scan] and [Load] do the I/O:
// they read the search directories, settings, host unit directories and
// the images themselves (through package dissect, never by mounting).
// [Plan] is pure: images and settings in, an ordered set of files and one
// report per image out, which is what the golden tests check. [Write] puts
// the files into the output directory atomically, drop-ins before units.
package generator
