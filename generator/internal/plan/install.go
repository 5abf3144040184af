package generator

import (
	"encoding/base64"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// installSection is what Enable=yes reads from a unit's [Install].
type installSection struct {
	wantedBy, requiredBy, upheldBy, aliases []string
	defaultInstance                         string
}

func parseInstall(f *unitfile.File) (installSection, error) {
	var s installSection
	var err error
	for _, k := range []struct {
		key string
		dst *[]string
	}{{"WantedBy", &s.wantedBy}, {"RequiredBy", &s.requiredBy}, {"UpheldBy", &s.upheldBy}, {"Alias", &s.aliases}} {
		if *k.dst, err = f.Words("Install", k.key); err != nil {
			return s, err
		}
	}
	s.defaultInstance, _ = f.Last("Install", "DefaultInstance")
	return s, nil
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
