package config

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeTableMatchesVariables keeps the README's configuration table
// and the code in step: every variable with its default, nothing extra.
func TestReadmeTableMatchesVariables(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Only the "## Configuration" section holds the table.
	text := string(b)
	start := strings.Index(text, "\n## Configuration")
	if start < 0 {
		t.Fatal("README has no ## Configuration section")
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	rows := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if strings.ToUpper(name) != name || strings.ContainsAny(name, " /") {
			continue // another table (endpoints, processes)
		}
		rows[name] = strings.TrimSpace(cells[2])
	}
	for _, v := range Variables {
		want := "`" + v.Default + "`"
		if v.Default == "" {
			want = "(empty)"
		}
		got, ok := rows[v.Name]
		if !ok {
			t.Errorf("README configuration table lacks %s", v.Name)
		} else if got != want {
			t.Errorf("README says %s defaults to %s, code says %s", v.Name, got, want)
		}
		delete(rows, v.Name)
	}
	for name := range rows {
		t.Errorf("README documents %s, which Truss does not read", name)
	}
}
