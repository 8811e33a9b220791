module github.com/stormproof/stormproof/live/adapters/rueidis

go 1.26.8

require (
	github.com/redis/rueidis v1.0.79
	github.com/stormproof/stormproof v0.0.0-00010101000000-000000000000
)

require golang.org/x/sys v0.48.0 // indirect

replace github.com/stormproof/stormproof => ../../..
