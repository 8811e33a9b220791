package service

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/model"
)

// KeyPrefix starts every cache key: "dev:<device id>".
const KeyPrefix = "dev:"

// Key is the cache key of device d's owner set.
func Key(d model.DeviceID) string { return KeyPrefix + strconv.FormatUint(uint64(d), 10) }

// ParseKey is the inverse of Key.
func ParseKey(s string) (model.DeviceID, bool) {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	return model.DeviceID(n), err == nil
}

// The cached value names its device as well as its owners (key-in-value
// style), in the trace's own `val` shape, so a value read under another
// key is visible in the history whether or not the service checks it.
type wireValue struct {
	Dev uint32   `json:"dev"`
	Own []uint32 `json:"own"`
	Ver uint32   `json:"ver"`
}

// EncodeValue is the cached form of v.
func EncodeValue(v model.CacheValue) []byte {
	w := wireValue{Dev: uint32(v.Device), Own: make([]uint32, v.Owners.N), Ver: v.Version}
	for i := range w.Own {
		w.Own[i] = uint32(v.Owners.IDs[i])
	}
	b, _ := json.Marshal(w)
	return b
}

// errBadValue marks bytes that are not a cached value (a misread reply of
// another type can produce them).
var errBadValue = errors.New("not a cached owner set")

// DecodeValue parses a cached value.
func DecodeValue(b []byte) (model.CacheValue, error) {
	var w wireValue
	if err := json.Unmarshal(b, &w); err != nil || len(w.Own) > model.MaxOwners {
		return model.CacheValue{}, errBadValue
	}
	v := model.CacheValue{Device: model.DeviceID(w.Dev), Version: w.Ver}
	for _, a := range w.Own {
		v.Owners.Add(model.AccountID(a))
	}
	return v, nil
}
