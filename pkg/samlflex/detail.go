package samlflex

import (
	"strconv"
	"unicode/utf8"
)

// maxDetailText bounds any IdP-controlled free text (StatusMessage,
// attribute values, element names, issuers, certificate names) quoted in an
// error detail. Details are logged: one refused request once wrote a 180 KB
// log line.
const maxDetailText = 256

// truncateDetail returns s cut to at most maxDetailText bytes on a UTF-8
// boundary, marked with "…(N bytes)" when cut, so a log line says that the
// value was longer and by how much.
func truncateDetail(s string) string {
	if len(s) <= maxDetailText {
		return s
	}
	cut := maxDetailText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
