package host

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/names"
)

// Why a layered attachment cannot be put together (in a *LayerError).
var (
	ErrNoSuchImage     = errors.New("no image of that name is chosen (not in the search directories, masked, or unreadable)")
	ErrBaseIsExtension = errors.New("is an extension itself, not a base (it has no os-release)")
	ErrBaseHasBase     = errors.New("names a base of its own: bases do not stack")
	ErrLayerTwice      = errors.New("is named twice in the layers")
	ErrWeakerProfile   = errors.New("an extension cannot run under a weaker profile than its base's settings chose")
)

// profileStrength orders the built-in profiles, each confining more than
// the one before; other profiles compare only as equal.
var profileStrength = map[string]int{"trusted": 0, "default": 1, "nonetwork": 2, "strict": 3}

// inheritProfile applies what the base's settings chose for the profile:
// an attachment whose own settings name none runs under the base's; one
// that names a weaker profile (or, beside an admin's own profile, another)
// is refused.
func inheritProfile(img, base *Image, profiles *Profiles) error {
	want := base.Settings.Profile
	switch have := img.Settings.Profile; {
	case want == "" || have == want:
		return nil
	case have == "":
		img.Settings.Profile = want
		img.Profile, img.ProfileErr = profiles.Get(want)
		return nil
	default:
		a, aok := profileStrength[have]
		b, bok := profileStrength[want]
		if aok && bok && a >= b {
			return nil
		}
		return fmt.Errorf("%w: Profile=%s here, Profile=%s for the base", ErrWeakerProfile, have, want)
	}
}

// LayerError names the layer that stops an attachment and the settings
// key that named it.
type LayerError struct {
	Key  string // "Base" or "Extensions"; "" for the attachment's own image
	Ref  string // as the settings name it
	Path string // the image it resolved to, "" when none
	Err  error
}

func (e *LayerError) Error() string {
	role := "extension"
	if e.Key == "Base" {
		role = "base"
	}
	where := role + " " + e.Ref
	if e.Key != "" {
		where += " (" + e.Key + "="
		if e.Path != "" && e.Path != e.Ref {
			where += ", " + e.Path
		}
		where += ")"
	} else if e.Path != "" {
		where += " (" + e.Path + ")"
	}
	return where + ": " + e.Err.Error()
}

func (e *LayerError) Unwrap() error { return e.Err }

// LoadLayers puts together the tree of an attachment whose settings name a
// base (Base=) or extensions (Extensions=), as portablectl attaches a base
// image with --extension: each name is the image chosen for it (chosen
// loads it: search directories, shadowing, masks and versions applied, so
// a newer base version serves every app over it), an absolute path the
// image there. Each extension's release file is looked up and judged
// against the base's os-release by the rules of systemdVersion; units are
// collected over the layers with the image's own prefixes, the base's
// first, then each extension's. The base's settings bound the profile (see
// inheritProfile). A failure is kept in img.Layers.Err.
func (r Root) LoadLayers(img *Image, chosen func(name string) (*Image, bool), profiles *Profiles, systemdVersion int, arch string) {
	l := &Layers{}
	img.Layers = l
	defer func() {
		if p := recover(); p != nil {
			l.Err = fmt.Errorf("%w (a bug in portable-generator, please report it): %v", ErrCrashed, p)
		}
	}()
	root := img
	if ref := img.Settings.Base; ref != "" {
		b, err := r.layerImage(ref, chosen, systemdVersion)
		switch {
		case err != nil:
		case b.Path == img.Path:
			err = fmt.Errorf("%w: the image itself", ErrLayerTwice)
		case b.Err != nil:
			err = b.Err
		case b.OSRelease == nil:
			err = ErrBaseIsExtension
		case b.Settings.Base != "":
			err = fmt.Errorf("%w (Base=%s)", ErrBaseHasBase, b.Settings.Base)
		default:
			err = inheritProfile(img, b, profiles)
		}
		if err != nil {
			l.Err = &LayerError{Key: "Base", Ref: ref, Path: pathOf(b), Err: err}
			return
		}
		root = b
	}
	l.Root = Layer{Name: root.Name, Path: root.Path, Kind: root.Kind, Self: root.Path == img.Path, OSRelease: root.OSRelease, Verity: root.Verity}
	type extRef struct {
		key, ref string
		img      *Image
	}
	var refs []extRef
	if root.Path != img.Path {
		refs = append(refs, extRef{"", img.Name, img})
	}
	for _, ref := range img.Settings.Extensions {
		e, err := r.layerImage(ref, chosen, systemdVersion)
		switch {
		case err != nil:
		case e.Path == root.Path:
			err = fmt.Errorf("%w: it is the base", ErrLayerTwice)
		case e.Err != nil:
			err = e.Err
		}
		for _, seen := range refs {
			if err == nil && seen.img.Path == e.Path {
				err = ErrLayerTwice
			}
		}
		if err != nil {
			l.Err = &LayerError{Key: "Extensions", Ref: ref, Path: pathOf(e), Err: err}
			return
		}
		refs = append(refs, extRef{"Extensions", ref, e})
	}
	base, err := r.openImage(root.Path, dissect.Options{})
	if err != nil {
		l.Err = &LayerError{Key: "Base", Ref: root.Name, Path: root.Path, Err: err}
		return
	}
	defer base.Close()
	var exts []dissect.Extension
	for _, ref := range refs {
		fail := func(err error) { l.Err = &LayerError{Key: ref.key, Ref: ref.ref, Path: ref.img.Path, Err: err} }
		d, err := r.openImage(ref.img.Path, dissect.Options{})
		if err != nil {
			fail(err)
			return
		}
		defer d.Close()
		name := dissect.ExtensionName(ref.img.Path, ref.img.Kind, systemdVersion)
		rel, err := d.ExtensionRelease(name, systemdVersion)
		if err != nil {
			fail(err)
			return
		}
		if err := dissect.CheckExtension(root.OSRelease, rel.Fields, arch, systemdVersion); err != nil {
			fail(err)
			return
		}
		exts = append(exts, dissect.Extension{Image: d, Name: name, Release: rel})
		l.Extensions = append(l.Extensions, Layer{Name: ref.img.Name, Path: ref.img.Path, Kind: ref.img.Kind,
			Self: ref.img.Path == img.Path, Release: rel, Verity: verity(d, ref.img.Path)})
	}
	files, err := dissect.LayeredUnits(base, exts, unitFilter(img.Prefixes()))
	if err != nil {
		l.Err = err
		return
	}
	img.Units = img.Units[:0:0]
	for _, f := range files {
		img.Units = append(img.Units, Unit{Name: f.Name, Content: f.Content, Layer: f.Layer})
	}
	img.OSRelease, img.Architectures, img.Verity = root.OSRelease, root.Architectures, root.Verity
}

// layerImage finds the image a Base= or Extensions= value names: the image
// chosen for a NAME, or the image at an absolute path (trusted as the
// search directories' images are).
func (r Root) layerImage(ref string, chosen func(string) (*Image, bool), systemdVersion int) (*Image, error) {
	if !strings.HasPrefix(ref, "/") {
		if img, ok := chosen(ref); ok {
			return img, nil
		}
		return nil, ErrNoSuchImage
	}
	p, err := r.Resolve(ref)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := r.CheckChain(p); err != nil {
		return nil, fmt.Errorf("untrusted image: %w", err)
	}
	fi, err := r.stat(p)
	if err != nil {
		return nil, unwrapPath(err)
	}
	name, _, _ := names.SplitEntryName(path.Base(p))
	img := &Image{Entry: Entry{Name: name, Path: p, Rank: -1, Kind: dissect.KindRaw}}
	if fi.IsDir() {
		img.Kind = dissect.KindDirectory
	}
	d, err := r.read(img, systemdVersion, nil)
	if err != nil {
		return nil, err
	}
	d.Close()
	return img, nil
}

func pathOf(img *Image) string {
	if img == nil {
		return ""
	}
	return img.Path
}
