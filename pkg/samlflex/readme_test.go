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
	for _, c := range Codes() {
		if !strings.Contains(readme, "`"+string(c.Code)+"`") {
			t.Errorf("README.md does not document error code %s", c.Code)
		}
	}
}
