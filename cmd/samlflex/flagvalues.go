package main

import (
	"flag"
	"strings"
)

// listFlag is a repeatable flag (--idp-cert a.crt --idp-cert b.crt).
type listFlag []string

var _ flag.Value = (*listFlag)(nil)

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// rawFlag keeps a flag's text as typed and parses it later, so that
// `account put` can report every bad value at once together with the
// validation problems, instead of stopping at the first (which is what
// flag.Duration and flag.Int do).
type rawFlag struct {
	value string
	// isBool lets the flag be given without a value (--allow-sha1 means
	// --allow-sha1=true), as flag.Bool does.
	isBool bool
}

var _ flag.Value = (*rawFlag)(nil)

func (r *rawFlag) String() string {
	if r == nil {
		return ""
	}
	return r.value
}

func (r *rawFlag) Set(v string) error {
	r.value = v
	return nil
}

// IsBoolFlag is what the flag package looks for to allow a bare --flag.
func (r *rawFlag) IsBoolFlag() bool { return r.isBool }

// visited returns the names of the flags given on the command line.
func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
