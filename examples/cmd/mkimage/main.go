// Command mkimage builds the example services' portable images in every
// format, the same way the integration suite and `just demo` do:
//
//	go run ./examples/cmd/mkimage [-out DIR] [-version V] [-build-id ID] [-kinds K,K] EXAMPLE...
//	go run ./examples/cmd/mkimage -layers [-out DIR] [-kinds K,K]
//	go run ./examples/cmd/mkimage -tree DIR [-out DIR] [-kinds K,K] NAME
//
// For each example and kind it writes DIR/KIND/EXAMPLE_VERSION.raw (a
// directory EXAMPLE_VERSION for the directory kind), ready to be copied
// into /var/lib/portables. With -layers it writes the layered images
// instead (imagebuild.Layers: the base minimal_0 and minimal_1 and the
// app extensions) as DIR/KIND/NAME.raw. With -tree it packs a tree made
// elsewhere (a distribution's package, integration/debian-tree.sh) as
// DIR/KIND/NAME.raw. Run it as root: raw images must be owned by
// root, and some kinds are made through loop devices.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

func main() {
	out := flag.String("out", "build/images", "output directory")
	examples := flag.String("examples", "examples", "the examples directory")
	version := flag.String("version", "1", "VERSION_ID of the images")
	buildID := flag.String("build-id", "", "BUILD_ID of the images")
	kinds := flag.String("kinds", joinKinds(imagebuild.DefaultKinds), "formats, comma-separated, from: "+joinKinds(imagebuild.Kinds))
	layers := flag.Bool("layers", false, "build the layered images (a base and its app extensions) instead of examples")
	tree := flag.String("tree", "", "pack this tree as the image NAME instead of building an example")
	flag.Parse()
	if *tree != "" {
		if flag.NArg() != 1 {
			fmt.Fprintln(os.Stderr, "usage: mkimage -tree DIR [flags] NAME")
			os.Exit(2)
		}
		if err := packAll(*tree, *out, flag.Arg(0), strings.Split(*kinds, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(1)
		}
		return
	}
	if *layers {
		if err := runLayers(*examples, *out, strings.Split(*kinds, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage [flags] EXAMPLE...")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if err := run(*examples, *out, *version, *buildID, strings.Split(*kinds, ","), flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func joinKinds(ks []imagebuild.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

func run(examples, out, version, buildID string, kinds, names []string) error {
	scratch, err := os.MkdirTemp("", "mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for _, name := range names {
		bin := filepath.Join(scratch, name+".bin")
		if err := imagebuild.BuildBinary(examples, name, bin); err != nil {
			return err
		}
		tree := filepath.Join(scratch, name+".tree")
		if err := imagebuild.Tree(examples, name, bin, tree, imagebuild.TreeOptions{Version: version, BuildID: buildID}); err != nil {
			return err
		}
		if err := packAll(tree, out, name+"_"+version, kinds); err != nil {
			return err
		}
	}
	return nil
}

// runLayers builds the base and extension images of imagebuild.Layers.
func runLayers(examples, out string, kinds []string) error {
	scratch, err := os.MkdirTemp("", "mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	bin := filepath.Join(scratch, "minimal.bin")
	if err := imagebuild.BuildBinary(examples, "minimal", bin); err != nil {
		return err
	}
	for _, name := range imagebuild.Layers {
		tree := filepath.Join(scratch, name+".tree")
		if err := imagebuild.Layer(name, bin, tree); err != nil {
			return err
		}
		if err := packAll(tree, out, name, kinds); err != nil {
			return err
		}
	}
	return nil
}

// packAll packs tree as DIR/KIND/NAME.raw (a directory NAME for the
// directory kind) in each kind, replacing what a previous build left.
func packAll(tree, out, name string, kinds []string) error {
	for _, k := range kinds {
		kind := imagebuild.Kind(strings.TrimSpace(k))
		dir := filepath.Join(out, string(kind))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		dst := filepath.Join(dir, name)
		if kind != imagebuild.Directory {
			dst += ".raw"
		}
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		img, err := imagebuild.Pack(tree, kind, dst)
		if err != nil {
			return err
		}
		fmt.Print(img.Path)
		if img.RootHash != "" {
			fmt.Print("  root hash ", img.RootHash)
		}
		fmt.Println()
	}
	return nil
}
