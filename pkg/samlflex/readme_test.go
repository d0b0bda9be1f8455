package samlflex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEListsEveryCode keeps the README's error-code table true: every
// code an admin can meet is documented there.
func TestREADMEListsEveryCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for code := range publicMessages {
		if !strings.Contains(readme, "`"+string(code)+"`") {
			t.Errorf("README.md does not document error code %s", code)
		}
	}
}
