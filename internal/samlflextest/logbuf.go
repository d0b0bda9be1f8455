package samlflextest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// LogBuffer collects what a logger, a server goroutine or a child process
// writes while the test reads it; every method is safe for concurrent use
// (the race detector flags a bare bytes.Buffer shared that way).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogger returns a JSON slog logger at level writing into a new buffer,
// and the buffer.
func NewLogger(level slog.Leveler) (*slog.Logger, *LogBuffer) {
	b := &LogBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})), b
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Bytes returns a copy of everything written so far.
func (b *LogBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// Contains reports whether s was written.
func (b *LogBuffer) Contains(s string) bool { return strings.Contains(b.String(), s) }

// Lines returns the non-empty lines written so far, without their line
// endings (\n or \r\n, as bufio.ScanLines splits them).
func (b *LogBuffer) Lines() []string {
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if line = strings.TrimSuffix(line, "\r"); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Records decodes every JSON object written so far (slog's JSON handler
// writes one a line), failing the test on anything that is not JSON.
func (b *LogBuffer) Records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(strings.NewReader(b.String()))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("log output is not JSON objects: %v\n%s", err, b.String())
		}
		out = append(out, m)
	}
}

// WithMsg returns the records whose msg is msg.
func (b *LogBuffer) WithMsg(t testing.TB, msg string) []map[string]any {
	t.Helper()
	return b.where(t, func(m map[string]any) bool { return m["msg"] == msg })
}

// WithKey returns the records that carry key (e.g. an EMF metric name).
func (b *LogBuffer) WithKey(t testing.TB, key string) []map[string]any {
	t.Helper()
	return b.where(t, func(m map[string]any) bool { _, ok := m[key]; return ok })
}

func (b *LogBuffer) where(t testing.TB, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range b.Records(t) {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}
