// The stormproof command is a module of its own, so that the library
// (github.com/stormproof/stormproof) requires none of the client libraries
// its live adapters link. While developing, the repository's go.work joins
// the modules; a release names their tagged versions here.
module github.com/stormproof/stormproof/cmd/stormproof

go 1.26.8

require (
	github.com/stormproof/stormproof v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/gomemcache v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/goredis v0.0.0-00010101000000-000000000000
	github.com/stormproof/stormproof/live/adapters/rueidis v0.0.0-00010101000000-000000000000
)
