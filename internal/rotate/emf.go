package rotate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// namespace of every samlflex metric.
const namespace = "samlflex"

// metric is one value of an EMF document.
type metric struct {
	name  string
	unit  string // a CloudWatch unit: "Count", "None", ...
	value float64
}

// writeEMF writes one CloudWatch Embedded Metric Format document as a single
// line. The shape follows the EMF specification:
//
//	{"_aws": {"Timestamp": <ms since epoch>,
//	          "CloudWatchMetrics": [{"Namespace": "samlflex",
//	                                 "Dimensions": [[<dimension keys>]],
//	                                 "Metrics": [{"Name": ..., "Unit": ...}]}]},
//	 <dimension key>: <value>, <metric name>: <value>, <other properties>}
//
// Dimensions is an array of dimension sets; [[]] (one empty set) publishes
// the metric without dimensions, which is what an account-wide alarm needs.
// It is written by hand (no EMF library) to keep the Lambda small; a
// matching copy lives in internal/certwatch.
func writeEMF(w io.Writer, now time.Time, dims map[string]string, metrics []metric, props map[string]any) error {
	doc := make(map[string]any, len(props)+len(dims)+len(metrics)+1)
	for k, v := range props {
		doc[k] = v
	}
	dimKeys := make([]string, 0, len(dims))
	for k, v := range dims {
		dimKeys = append(dimKeys, k)
		doc[k] = v
	}
	sort.Strings(dimKeys)
	defs := make([]map[string]string, 0, len(metrics))
	for _, m := range metrics {
		doc[m.name] = m.value
		defs = append(defs, map[string]string{"Name": m.name, "Unit": m.unit})
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  namespace,
			"Dimensions": [][]string{dimKeys},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("emf: %w", err)
	}
	// One Write per line: concurrent writers to stdout do not interleave
	// within a document.
	_, err = w.Write(append(b, '\n'))
	return err
}
