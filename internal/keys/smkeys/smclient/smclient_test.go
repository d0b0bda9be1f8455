package smclient

import (
	"context"
	"testing"
)

func TestNewEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		wantErr  bool
	}{
		{"local stand-in", "http://127.0.0.1:4566", false},
		{"no scheme", "127.0.0.1:4566", true},
		{"other scheme", "ftp://127.0.0.1", true},
		{"no host", "http://", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(context.Background(), tt.endpoint)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) = %v", tt.endpoint, err)
			}
			if err == nil && c.Options().Region != "us-east-1" {
				t.Errorf("region %q, want the stand-in's us-east-1", c.Options().Region)
			}
		})
	}
}
