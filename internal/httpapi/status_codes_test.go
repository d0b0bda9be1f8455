package httpapi

import (
	"net/http"
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestStatusForHardeningCodes: the codes of the XML hardening are client
// errors, never 5xx (they are not samlflex's fault) and never the default
// by accident for the one that is a 400.
func TestStatusForHardeningCodes(t *testing.T) {
	t.Parallel()
	for code, want := range map[samlflex.Code]int{
		samlflex.CodeResponseTooComplex: http.StatusBadRequest,
		samlflex.CodeAssertionTooOld:    http.StatusForbidden,
	} {
		if got := statusFor(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}
