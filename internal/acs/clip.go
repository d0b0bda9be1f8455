package acs

import (
	"strconv"
	"unicode/utf8"
)

// MaxLogText bounds each piece of request- or IdP-controlled free text
// (StatusMessage, attribute values, RelayState, IDs, paths) in a log line.
// Without it one refused request with a 180 KB StatusMessage wrote a 180 KB
// log line: log volume and cost would be the attacker's to choose.
const MaxLogText = 256

// Clip returns s cut to at most MaxLogText bytes on a UTF-8 boundary, with
// a note of how much was left out.
func Clip(s string) string { return ClipTo(s, MaxLogText) }

// ClipTo is Clip with another limit.
func ClipTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[" + strconv.Itoa(len(s)-cut) + " more bytes]"
}
