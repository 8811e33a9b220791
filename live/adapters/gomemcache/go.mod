module github.com/stormproof/stormproof/live/adapters/gomemcache

go 1.26.8

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/stormproof/stormproof v0.0.0-00010101000000-000000000000
)

replace github.com/stormproof/stormproof => ../../..
