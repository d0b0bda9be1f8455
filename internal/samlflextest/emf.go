package samlflextest

// EMF is the "_aws" metadata of one CloudWatch Embedded Metric Format
// document, decoded the way CloudWatch reads it. A test embeds it in a
// struct that adds the document's metric and property members it checks,
// and decodes a line into that struct.
type EMF struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}
