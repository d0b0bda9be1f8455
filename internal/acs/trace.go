package acs

import (
	"log/slog"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TraceLogValue is the decision trace of a refused login as structured
// log attributes: "failed" lists the failed checks in order, and each
// check is a group named after it (ok, code, expected, received, note,
// setting), so that a log query can ask for trace.audience.received. The
// values are the trace's own (no response, token, key or NameID), cut
// again by Clip in case a caller built a trace by hand.
func TraceLogValue(t *samlflex.Trace) slog.Value {
	if t == nil {
		return slog.GroupValue()
	}
	failed := []string{}
	attrs := make([]slog.Attr, 0, len(t.Checks)+1)
	for _, c := range t.Checks {
		if !c.OK {
			failed = append(failed, c.Name)
		}
		group := []any{slog.Bool("ok", c.OK)}
		if c.Code != "" {
			group = append(group, slog.String("code", string(c.Code)))
		}
		group = append(group, slog.String("expected", Clip(c.Expected)), slog.String("received", Clip(c.Received)))
		if c.Note != "" {
			group = append(group, slog.String("note", Clip(c.Note)))
		}
		if c.Message != "" {
			group = append(group, slog.String("message", Clip(c.Message)))
		}
		if !c.OK {
			group = append(group, slog.String("setting", c.Setting))
		}
		attrs = append(attrs, slog.Group(c.Name, group...))
	}
	return slog.GroupValue(append([]slog.Attr{slog.Any("failed", failed)}, attrs...)...)
}
