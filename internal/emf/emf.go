// Package emf writes CloudWatch Embedded Metric Format lines: metrics that
// CloudWatch extracts from a Lambda function's log output, with no
// PutMetricData call (and no extra IAM permission or latency). The rotate
// function's key rotation and IdP certificate scan use it; the stack's
// alarms read the metrics. It must not import an AWS SDK.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Namespace of every samlflex metric.
const Namespace = "samlflex"

// Metric is one value of an EMF document.
type Metric struct {
	Name  string
	Unit  string // a CloudWatch unit: "Count", "None", ...
	Value float64
}

// Write writes one CloudWatch Embedded Metric Format document as a single
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
// It is written by hand (no EMF library) to keep the Lambda small.
func Write(w io.Writer, now time.Time, dims map[string]string, metrics []Metric, props map[string]any) error {
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
		doc[m.Name] = m.Value
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
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
