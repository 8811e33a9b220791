package statespace

import (
	"bytes"

	"github.com/stormproof/stormproof/model"
)

// The hooks the external tests (package statespace_test) use.

// SetCopyAll makes every successor start from a whole copy of its base
// state when v is set.
func SetCopyAll(v bool) { copyAll = v }

// SetCheckChanged makes every incremental encoding be checked against a
// whole one when v is set.
func SetCheckChanged(v bool) { checkChanged = v }

// ReEncodes decodes state into a fresh concrete state and reports whether
// its canonical encoding is state again (the codec is exact, canon
// idempotent).
func (x *Expander) ReEncodes(state []byte) (bool, []byte, error) {
	if err := x.load(state); err != nil {
		return false, nil, err
	}
	x.work.copyFrom(x.base)
	x.touched = false
	b, _ := x.canon()
	return bytes.Equal(b, state), b, nil
}

// SetInputsCommute replaces the model's model.InputsCommute declaration
// (nil restores it).
func SetInputsCommute(f func(*model.Params, model.Kind) bool) {
	if f == nil {
		f = model.InputsCommute
	}
	inputsCommute = f
}
