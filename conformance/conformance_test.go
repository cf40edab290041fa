package conformance_test

import (
	"testing"

	"github.com/hooklab/hooklab/conformance"
)

func TestReferenceInProcess(t *testing.T) {
	conformance.Run(t, conformance.Reference())
}
