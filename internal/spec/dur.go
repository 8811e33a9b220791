package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stormproof/stormproof/model"
)

// Duration is a time.Duration written as "300ms", "90s", "4h30m" or "2d".
type Duration time.Duration

// ParseDuration accepts Go durations plus a "d" (day) unit.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") && !strings.HasSuffix(s, "nd") {
		days, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || !Closed(0, 1e5).Contains(days) {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (write e.g. 250ms, 30s, 4h30m)", s)
	}
	return d, nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like 30s", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string: %v", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Dist is a distribution of durations: a plain duration ("30s", constant)
// or {dist: uniform, min, max} | {dist: exp, mean} |
// {dist: lognormal, median, sigma}.
type Dist struct {
	Dist   string   `yaml:"dist" json:"dist"`
	Value  Duration `yaml:"value,omitempty" json:"value,omitempty"`
	Min    Duration `yaml:"min,omitempty" json:"min,omitempty"`
	Max    Duration `yaml:"max,omitempty" json:"max,omitempty"`
	Mean   Duration `yaml:"mean,omitempty" json:"mean,omitempty"`
	Median Duration `yaml:"median,omitempty" json:"median,omitempty"`
	Sigma  float64  `yaml:"sigma,omitempty" json:"sigma,omitempty"`
}

type distFields Dist

func (d *Dist) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := ParseDuration(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		*d = Dist{Dist: "const", Value: Duration(v)}
		return nil
	}
	var f distFields
	if err := n.Decode(&f); err != nil {
		return err
	}
	*d = Dist(f)
	if key, err := d.check(); err != nil {
		// The line of the parameter at fault, so the error names it.
		line := n.Line
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
			}
		}
		return fmt.Errorf("line %d: %v", line, err)
	}
	return nil
}

// check validates the parameters; on an error it also names the key at fault.
func (d Dist) check() (string, error) {
	switch d.Dist {
	case "const", "":
		if d.Value < 0 {
			return "value", fmt.Errorf("const duration must be ≥ 0")
		}
	case "uniform":
		if d.Min < 0 || d.Max < d.Min {
			return "max", fmt.Errorf("uniform needs 0 ≤ min ≤ max, got min %v max %v", d.Min, d.Max)
		}
	case "exp":
		if d.Mean <= 0 {
			return "mean", fmt.Errorf("exp needs mean > 0")
		}
	case "lognormal":
		if d.Median <= 0 {
			return "median", fmt.Errorf("lognormal needs median > 0")
		}
		if err := OpenClosed(0, 5).Check(d.Sigma); err != nil {
			return "sigma", fmt.Errorf("lognormal sigma %v", err)
		}
	default:
		return "dist", fmt.Errorf("unknown dist %q (want const, uniform, exp or lognormal)", d.Dist)
	}
	return "", nil
}

// Check validates the distribution's parameters.
func (d Dist) Check() error {
	_, err := d.check()
	return err
}

// Model converts to the model's Dur.
func (d Dist) Model() model.Dur {
	switch d.Dist {
	case "uniform":
		return model.Uniform(d.Min.D(), d.Max.D())
	case "exp":
		return model.Exp(d.Mean.D())
	case "lognormal":
		return model.LogNormal(d.Median.D(), d.Sigma)
	}
	return model.Const(d.Value.D())
}

// Scale multiplies every duration of d by f.
func (d Dist) Scale(f float64) Dist {
	s := func(x Duration) Duration { return Duration(float64(x) * f) }
	d.Value, d.Min, d.Max, d.Mean, d.Median = s(d.Value), s(d.Min), s(d.Max), s(d.Mean), s(d.Median)
	return d
}

func (d Dist) String() string { return d.Model().String() }
