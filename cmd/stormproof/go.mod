// The stormproof command is a module of its own, so that the library
// (github.com/stormproof/stormproof) requires none of the client libraries
// its live adapters link. The replace directives make the repository's
// modules build from this checkout (the repository's go.work joins them);
// a release names the modules' tagged versions instead, since go install
// PKG@VERSION refuses a module with replace directives.
module github.com/stormproof/stormproof/cmd/stormproof

go 1.26.8

require (
	github.com/stormproof/stormproof v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/gomemcache v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/goredis v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/rueidis v0.0.0-00010101000000-000000000000
)

require (
	codeberg.org/go-fonts/liberation v0.5.0 // indirect
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	git.sr.ht/~sbinet/gg v0.7.0 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/andybalholm/brotli v1.1.1 // indirect
	github.com/anishathalye/porcupine v1.3.1 // indirect
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.18.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/parquet-go/bitpack v1.0.0 // indirect
	github.com/parquet-go/jsonlite v1.0.0 // indirect
	github.com/parquet-go/parquet-go v0.32.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.21 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	github.com/redis/rueidis v1.0.79 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/schollz/progressbar/v3 v3.19.1 // indirect
	github.com/twpayne/go-geom v1.6.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/image v0.30.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/term v0.45.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
	gonum.org/v1/plot v0.17.0 // indirect
	google.golang.org/protobuf v1.34.2 // indirect
)

replace (
	github.com/stormproof/stormproof => ../..
	github.com/stormproof/stormproof/live/adapters/gomemcache => ../../live/adapters/gomemcache
	github.com/stormproof/stormproof/live/adapters/goredis => ../../live/adapters/goredis
	github.com/stormproof/stormproof/live/adapters/rueidis => ../../live/adapters/rueidis
)
