package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON prints {"checks": [...]} for scripts.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"status": Worst(rs), "checks": rs})
}

// WriteText prints one block per check; colour only for terminals.
func WriteText(w io.Writer, rs []Result, colour bool) {
	paint := func(s Status) string {
		label := map[Status]string{OK: " ok ", Warn: "warn", Fail: "FAIL"}[s]
		if !colour {
			return "[" + label + "]"
		}
		code := map[Status]string{OK: "32", Warn: "33", Fail: "31"}[s]
		return "\x1b[" + code + "m[" + label + "]\x1b[0m"
	}
	counts := map[Status]int{}
	for _, r := range rs {
		counts[r.Status]++
		fmt.Fprintf(w, "%s %s (%s)\n      %s\n", paint(r.Status), r.Title, r.ID, r.Evidence)
		if r.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", r.Fix)
		}
	}
	fmt.Fprintf(w, "\n%d ok, %d warnings, %d failures\n", counts[OK], counts[Warn], counts[Fail])
}

// Guide renders docs/troubleshooting.md from Checks.
func Guide() string {
	var b strings.Builder
	b.WriteString(guideIntro)
	for _, c := range Checks {
		fmt.Fprintf(&b, "## %s\n\n`truss doctor` check: `%s`\n\n**Symptom.** %s\n\n**Fix.** %s\n\n", c.Title, c.ID, c.Symptom, c.Fix)
		if extra, ok := guideExtra[c.ID]; ok {
			b.WriteString(extra + "\n\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
