module github.com/portable-generator/portable-generator

go 1.26.8

require (
	github.com/anchore/go-lzo v0.1.0
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/google/go-cmp v0.7.0
	github.com/klauspost/compress v1.20.4
	github.com/pierrec/lz4/v4 v4.1.33
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/sys v0.50.0
	golang.org/x/tools v0.52.0
)

require github.com/godbus/dbus/v5 v5.2.4 // indirect
