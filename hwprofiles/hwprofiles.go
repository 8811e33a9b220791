// Package hwprofiles holds camera hardware profiles as YAML data: the
// embedded defaults, the loader for users' own files, their validation, and
// the conversion to the model's Profile. Every value in a profile file
// carries its source, or the word "assumed", as a YAML comment; the loader
// refuses a value without one.
package hwprofiles

import (
	"embed"
	"fmt"
	"math"
	"os"
	"path"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/model"
)

//go:embed profiles/*.yaml
var builtin embed.FS

// Backoff is a reconnect policy.
type Backoff struct {
	Initial    spec.Duration `yaml:"initial" json:"initial"`
	Multiplier float64       `yaml:"multiplier" json:"multiplier"`
	Cap        spec.Duration `yaml:"cap" json:"cap"`
	Jitter     string        `yaml:"jitter" json:"jitter"`
}

// Profile is one camera model's hardware and firmware behaviour.
type Profile struct {
	Name              string        `yaml:"name" json:"name"`
	Model             string        `yaml:"model" json:"model"`
	Resolution        string        `yaml:"resolution" json:"resolution"`
	Power             string        `yaml:"power" json:"power"` // mains | battery
	BootTime          spec.Dist     `yaml:"boot_time" json:"boot_time"`
	ConnectTimeout    spec.Duration `yaml:"connect_timeout" json:"connect_timeout"`
	Keepalive         spec.Duration `yaml:"keepalive" json:"keepalive"`
	Backoff           Backoff       `yaml:"backoff" json:"backoff"`
	MotionPerHour     float64       `yaml:"motion_per_hour" json:"motion_per_hour"`
	ThumbnailBytes    uint32        `yaml:"thumbnail_bytes" json:"thumbnail_bytes"`
	ClipSeconds       float64       `yaml:"clip_seconds" json:"clip_seconds"`
	StreamBytesPerSec float64       `yaml:"stream_bytes_per_sec" json:"stream_bytes_per_sec"`
	UplinkBytesPerSec float64       `yaml:"uplink_bytes_per_sec" json:"uplink_bytes_per_sec"`
	BufferEvents      uint32        `yaml:"buffer_events" json:"buffer_events"`
	UploadTimeout     spec.Duration `yaml:"upload_timeout" json:"upload_timeout"`
	MaxUploadRetries  uint8         `yaml:"max_upload_retries" json:"max_upload_retries"`
	WakeLatency       spec.Dist     `yaml:"wake_latency" json:"wake_latency"`

	// File is where the profile was read from ("builtin:cam-v3.yaml" for embedded ones).
	File string `yaml:"-" json:"-"`
}

// ClipBytes is the size of one event clip: its length at the stream bitrate.
func (p *Profile) ClipBytes() uint32 { return uint32(p.ClipSeconds * p.StreamBytesPerSec) }

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Parse decodes and validates one profile file.
func Parse(file string, data []byte) (Profile, error) {
	var p Profile
	root, err := spec.Decode(file, data, &p)
	if err != nil {
		return Profile{}, err
	}
	if err := spec.RequireSources(file, root); err != nil {
		return Profile{}, err
	}
	if err := p.validate(); err != nil {
		return Profile{}, spec.Errorf(file, root, err.field, "%s", err.msg)
	}
	p.File = file
	return p, nil
}

type fieldErr struct{ field, msg string }

// bitrate is what a link's or a stream's bytes per second may be: more than
// nothing, at most a terabyte per second.
var bitrate = spec.OpenClosed(0, 1e12)

func (p *Profile) validate() *fieldErr {
	bad := func(f, format string, a ...any) *fieldErr { return &fieldErr{f, fmt.Sprintf(format, a...)} }
	switch {
	case !nameRe.MatchString(p.Name):
		return bad("name", "must be 1-64 of a-z 0-9 . _ - (got %q)", p.Name)
	case p.Power != "mains" && p.Power != "battery":
		return bad("power", "must be mains or battery (got %q)", p.Power)
	case p.BootTime.Check() != nil:
		return bad("boot_time", "%v", p.BootTime.Check())
	case p.ConnectTimeout <= 0:
		return bad("connect_timeout", "must be > 0")
	case p.Keepalive <= 0:
		return bad("keepalive", "must be > 0")
	case p.Backoff.Initial <= 0:
		return bad("backoff.initial", "must be > 0")
	case !spec.Closed(1, 100).Contains(p.Backoff.Multiplier):
		return bad("backoff.multiplier", "%v", spec.Closed(1, 100).Check(p.Backoff.Multiplier))
	case p.Backoff.Cap < p.Backoff.Initial:
		return bad("backoff.cap", "must be ≥ backoff.initial")
	case !spec.Closed(0, 3600).Contains(p.MotionPerHour):
		return bad("motion_per_hour", "%v", spec.Closed(0, 3600).Check(p.MotionPerHour))
	case p.ThumbnailBytes == 0:
		return bad("thumbnail_bytes", "must be > 0")
	case !spec.OpenClosed(0, 600).Contains(p.ClipSeconds):
		return bad("clip_seconds", "%v", spec.OpenClosed(0, 600).Check(p.ClipSeconds))
	case !bitrate.Contains(p.StreamBytesPerSec):
		return bad("stream_bytes_per_sec", "%v", bitrate.Check(p.StreamBytesPerSec))
	case !bitrate.Contains(p.UplinkBytesPerSec):
		return bad("uplink_bytes_per_sec", "%v", bitrate.Check(p.UplinkBytesPerSec))
	case p.ClipSeconds*p.StreamBytesPerSec > math.MaxUint32:
		return bad("stream_bytes_per_sec", "a clip (clip_seconds × stream_bytes_per_sec = %g bytes) must fit in 4 GiB", p.ClipSeconds*p.StreamBytesPerSec)
	case p.BufferEvents < 1 || p.BufferEvents > 1<<20:
		return bad("buffer_events", "must be in [1, 1048576] (got %d)", p.BufferEvents)
	case p.UploadTimeout < 0:
		return bad("upload_timeout", "must be ≥ 0")
	case p.WakeLatency.Check() != nil:
		return bad("wake_latency", "%v", p.WakeLatency.Check())
	}
	if _, err := model.ParseJitter(p.Backoff.Jitter); err != nil {
		return bad("backoff.jitter", "%v", err)
	}
	return nil
}

// Model converts to the model's profile.
func (p *Profile) ModelProfile() model.Profile {
	j, _ := model.ParseJitter(p.Backoff.Jitter)
	return model.Profile{
		Name: p.Name,
		Boot: p.BootTime.Model(),
		Backoff: model.Backoff{Initial: p.Backoff.Initial.D(), Multiplier: p.Backoff.Multiplier,
			Cap: p.Backoff.Cap.D(), Jitter: j},
		ConnectTimeout:    p.ConnectTimeout.D(),
		Keepalive:         p.Keepalive.D(),
		MotionPerHour:     p.MotionPerHour,
		ThumbBytes:        p.ThumbnailBytes,
		ClipBytes:         p.ClipBytes(),
		UplinkBytesPerSec: p.UplinkBytesPerSec,
		Buffer:            p.BufferEvents,
		UploadTimeout:     p.UploadTimeout.D(),
		MaxUploadRetries:  p.MaxUploadRetries,
		AlwaysOn:          p.Power == "mains",
		WakeLatency:       p.WakeLatency.Model(),
	}
}

// Builtin returns the embedded profiles, sorted by name (decoded once: every
// scenario loads them).
func Builtin() ([]Profile, error) {
	builtinOnce.Do(func() { builtinProfiles, builtinErr = parseBuiltin() })
	return append([]Profile(nil), builtinProfiles...), builtinErr
}

var (
	builtinOnce     sync.Once
	builtinProfiles []Profile
	builtinErr      error
)

func parseBuiltin() ([]Profile, error) {
	entries, err := builtin.ReadDir("profiles")
	if err != nil {
		return nil, err
	}
	var out []Profile
	for _, e := range entries {
		data, err := builtin.ReadFile(path.Join("profiles", e.Name()))
		if err != nil {
			return nil, err
		}
		p, err := Parse("builtin:"+e.Name(), data)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Load reads a user's profile file.
func Load(file string) (Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Profile{}, &spec.Error{File: file, Msg: fmt.Sprintf("cannot read: %v", unwrapPathErr(err))}
	}
	return Parse(file, data)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Set is a collection of profiles by name.
type Set map[string]Profile

// NewSet returns the builtin profiles plus the given files; a file may not
// reuse a name already taken.
func NewSet(files ...string) (Set, error) {
	b, err := Builtin()
	if err != nil {
		return nil, err
	}
	s := Set{}
	for _, p := range b {
		s[p.Name] = p
	}
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			return nil, err
		}
		if old, dup := s[p.Name]; dup {
			return nil, &spec.Error{File: f, Field: "name", Msg: fmt.Sprintf("profile %q is already defined by %s", p.Name, old.File)}
		}
		s[p.Name] = p
	}
	return s, nil
}

// Names returns the profile names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Summary is a one-line description of a profile for listings.
func (p *Profile) Summary() string {
	return fmt.Sprintf("%-16s %-24s %-10s %-7s motion %.1f/h  backoff %v×%g≤%v %-5s buffer %d  thumb %dKB clip %.1fMB",
		p.Name, p.Model, p.Resolution, p.Power, p.MotionPerHour, p.Backoff.Initial.D(), p.Backoff.Multiplier,
		time.Duration(p.Backoff.Cap), p.Backoff.Jitter, p.BufferEvents, p.ThumbnailBytes/1000, float64(p.ClipBytes())/1e6)
}
