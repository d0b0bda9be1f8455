package main

import (
	"fmt"
	"strings"
)

// didYouMean returns "; did you mean ...?" for a mistyped command, or "".
// In a group it compares with the group's commands; at the top with the
// top-level names, and also with every group's commands, so that
// `samlflex put` suggests `account put`.
func didYouMean(typed, groupName string) string {
	typed = strings.ToLower(typed)
	var names []string
	if groupName != "" {
		for _, c := range subcommands(groupName) {
			names = append(names, strings.TrimPrefix(c.name, groupName+" "))
		}
	} else {
		for _, t := range topLevel() {
			names = append(names, t.name)
		}
		for _, c := range commands() {
			if strings.Contains(c.name, " ") {
				names = append(names, c.name)
			}
		}
	}
	best, bestDist := "", 3
	for _, n := range names {
		cand := n
		if _, last, ok := strings.Cut(n, " "); ok && !strings.Contains(typed, " ") {
			cand = last // compare `put` with `account put`'s last word
		}
		d := editDistance(typed, cand)
		// Short words need a closer match: "ls" is not "dev".
		if limit := min(2, max(1, len(cand)/3)); d <= limit && d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	if groupName != "" {
		return fmt.Sprintf("; did you mean \"samlflex %s %s\"?", groupName, best)
	}
	return fmt.Sprintf("; did you mean \"samlflex %s\"?", best)
}

// editDistance is the Levenshtein distance, with a transposition costing
// one (the commonest typo: "acocunt").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
