package emf

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

func TestWriteShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := time.UnixMilli(1768471200000)
	if err := Write(&buf, now, map[string]string{"AccountSid": "AC1"}, []Metric{{Name: "M", Unit: "Count", Value: 2}}, map[string]any{"event": "x"}); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", buf.String())
	}
	var doc struct {
		samlflextest.EMF
		AccountSid string
		M          float64
		Event      string `json:"event"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.AWS.CloudWatchMetrics
	if doc.AWS.Timestamp != now.UnixMilli() || len(m) != 1 || m[0].Namespace != Namespace || len(m[0].Dimensions) != 1 ||
		len(m[0].Dimensions[0]) != 1 || m[0].Dimensions[0][0] != "AccountSid" || m[0].Metrics[0].Name != "M" || m[0].Metrics[0].Unit != "Count" ||
		doc.AccountSid != "AC1" || doc.M != 2 || doc.Event != "x" {
		t.Fatalf("%+v", doc)
	}
	// No dimensions: one empty dimension set, so an account-wide alarm works.
	buf.Reset()
	_ = Write(&buf, now, nil, []Metric{{Name: "N", Unit: "None", Value: 1}}, nil)
	if !bytes.Contains(buf.Bytes(), []byte(`"Dimensions":[[]]`)) {
		t.Fatalf("%s", buf.String())
	}
}
