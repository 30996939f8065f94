package main

import (
	"fmt"
	"strings"
)

// perRound lists one figure per round, space-separated, for a row's note.
func perRound(figures []float64) string {
	per := make([]string, len(figures))
	for r, f := range figures {
		per[r] = fmt.Sprint(f)
	}
	return strings.Join(per, " ")
}
