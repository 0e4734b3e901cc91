package dbapi

import (
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

// TestPinsPrimaryKey: a read drops its LIMIT only when the filters pin
// every primary-key column with a plain equality, so it returns at most
// one row whatever the limit says.
func TestPinsPrimaryKey(t *testing.T) {
	single := &Table{Name: "items", PrimaryKey: []string{"id"}}
	composite := &Table{Name: "lines", PrimaryKey: []string{"order_id", "n"}}
	noKey := &Table{Name: "log"}
	tests := []struct {
		name    string
		table   *Table
		filters [][2]string
		logic   bool
		want    bool
	}{
		{"eq on the key", single, [][2]string{{"id", "eq.1"}}, false, true},
		{"eq on the key and another column", single, [][2]string{{"name", "eq.x"}, {"id", "eq.1"}}, false, true},
		{"no filter", single, nil, false, false},
		{"negated eq", single, [][2]string{{"id", "not.eq.1"}}, false, false},
		{"gt", single, [][2]string{{"id", "gt.1"}}, false, false},
		{"in", single, [][2]string{{"id", "in.(1,2)"}}, false, false},
		{"quantified eq", single, [][2]string{{"id", "eq(any).{1,2}"}}, false, false},
		{"json path", single, [][2]string{{"id->>a", "eq.1"}}, false, false},
		{"embedded column of that name", single, [][2]string{{"author.id", "eq.1"}}, false, false},
		{"inside or=()", single, nil, true, false},
		{"composite, both pinned", composite, [][2]string{{"order_id", "eq.1"}, {"n", "eq.2"}}, false, true},
		{"composite, one pinned", composite, [][2]string{{"order_id", "eq.1"}}, false, false},
		{"no primary key", noKey, [][2]string{{"id", "eq.1"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conds []postgrest.Condition
			for _, f := range tt.filters {
				pf, err := postgrest.ParseFilter(f[0], f[1])
				if err != nil {
					t.Fatalf("ParseFilter(%s, %s): %v", f[0], f[1], err)
				}
				if len(pf.Embed) == 0 || strings.Contains(tt.name, "embedded") {
					conds = append(conds, postgrest.Condition{Filter: &pf})
				}
			}
			if tt.logic {
				l, err := postgrest.ParseLogic("or", "(id.eq.1)")
				if err != nil {
					t.Fatal(err)
				}
				conds = append(conds, postgrest.Condition{Logic: &l})
			}
			if got := pinsPrimaryKey(tt.table, conds); got != tt.want {
				t.Fatalf("pinsPrimaryKey = %v, want %v", got, tt.want)
			}
		})
	}
}
