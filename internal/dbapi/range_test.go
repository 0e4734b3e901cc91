package dbapi_test

import (
	"net/url"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestRangeOperators: sl, sr, nxr, nxl and adj compare range columns
// (postgrest-js rangeLt, rangeGt, rangeLte, rangeGte, rangeAdjacent);
// cs, cd and ov work on ranges too.
func TestRangeOperators(t *testing.T) {
	e := newEnv(t, nil)
	e.exec(`CREATE TABLE bookings (id int PRIMARY KEY, during int4range NOT NULL);
		INSERT INTO bookings VALUES (1, '[1,5)'), (2, '[5,8)'), (3, '[10,20)');`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	cases := map[string]string{
		"during=sl.[8,10)":     "1,2",
		"during=sr.[1,6)":      "3",
		"during=nxr.[1,8)":     "1,2",
		"during=nxl.[5,30)":    "2,3",
		"during=adj.[8,10)":    "2,3",
		"during=cs.[6,7)":      "2",
		"during=ov.[4,6)":      "1,2",
		"during=not.adj.[5,8)": "2,3",
	}
	for q, want := range cases {
		v, _ := url.ParseQuery(q)
		if got := e.ids(sk, "/v1/db/bookings?select=id&order=id&"+v.Encode()); got != want {
			t.Errorf("%s: got [%s], want [%s]", q, got, want)
		}
	}
	e.wantBadReads(t, sk, "bookings", map[string]string{"during=sl.[8": "invalid_value", "during=adj.x": "invalid_value"})
}
