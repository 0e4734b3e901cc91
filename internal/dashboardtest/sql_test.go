package dashboardtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// runSQL puts sql into the workbench editor, runs it (with the Run button,
// or Ctrl+Enter in the editor) and waits until the result or error that
// matches done shows.
func (b *browser) runSQL(sql string, keyboard bool, done string) {
	b.t.Helper()
	b.fill(`#sql-editor`, sql)
	if keyboard {
		b.do("Ctrl+Enter", poll(`(() => {
			const el = document.querySelector('#sql-editor');
			el.focus();
			el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', ctrlKey: true, bubbles: true, cancelable: true}));
			return true;
		})()`))
	} else {
		b.do("run "+sql, clickIn(`#main`, "Run"))
	}
	b.do("result of "+sql, waitSelector(done))
}

// TestSQLWorkbench: an admin opens the SQL screen from the nav, runs a
// SELECT and sees its typed columns and rows; a CREATE TABLE in read-only
// mode fails with the read_only error, its SQLSTATE and a hint; in write
// mode the table is created and a row inserted; back in read-only mode the
// row is selected; the query is saved and listed, the history loads a
// query back into the editor, and the schema browser shows the new table
// and its column. A non-admin has no SQL link and no workbench.
func TestSQLWorkbench(t *testing.T) {
	st := startTruss(t, nil)
	b, _ := st.signedInAdmin(t, "sqladmin", "/account")
	b.click("SQL")
	b.waitPath("/admin/sql")
	b.do("editor", waitSelector(`#sql-editor`))
	b.waitText("Write mode")
	b.do("read-only by default", poll(`document.querySelector('#sql-write').checked === false && !document.querySelector('[data-testid=sql-write-warning]')`))

	// A SELECT: columns with their types, the row, count and duration.
	b.runSQL("select 1 as one", false, `[data-testid=sql-result][data-command=SELECT][data-row-count="1"]`)
	if got := b.text(`[data-testid=sql-result-table] th[data-column=one]`); !strings.HasPrefix(got, "one") || len(strings.Fields(got)) != 2 {
		t.Errorf("column header reads %q, want the name and its type", got)
	}
	if got := b.text(`[data-testid=sql-result-table] tbody td`); got != "1" {
		t.Errorf("cell reads %q, want 1", got)
	}
	if meta := b.text(`[data-testid=sql-result-meta]`); !strings.Contains(meta, "1 row") || !strings.Contains(meta, " ms") || !strings.Contains(meta, "read-only") {
		t.Errorf("result summary reads %q", meta)
	}
	b.screenshot("sql-select")

	// CREATE TABLE in read-only mode (run with Ctrl+Enter): refused, with the SQLSTATE and a hint.
	b.runSQL("create table t(x int)", true, `[data-testid=sql-error][data-error-code=read_only]`)
	if got := b.text(`[data-testid=sql-pg-code]`); got != "SQLSTATE 25006" {
		t.Errorf("pg code reads %q", got)
	}
	if hint := b.text(`[data-testid=sql-error-hint]`); !strings.Contains(hint, "write") || !strings.Contains(hint, "READ ONLY") {
		t.Errorf("hint reads %q", hint)
	}
	b.screenshot("sql-read-only-error")

	// A syntax error shows where it is: line, column and a caret.
	b.runSQL("select 1,\n  2 frm t", false, `[data-testid=sql-error][data-pg-code="42601"]`)
	b.do("caret", waitSelector(`[data-testid=sql-error-caret]`))
	if caret := b.text(`[data-testid=sql-error-caret]`); !strings.Contains(caret, "2 frm t") || !strings.Contains(caret, "^") {
		t.Errorf("caret block reads %q", caret)
	}
	b.waitText("Line 2, column")
	b.screenshot("sql-syntax-error-caret")

	// Write mode: warned, then the table is created and a row inserted.
	b.do("write mode on", chromedp.Click(chromedp.CSS(`#sql-write`), chromedp.NodeVisible))
	b.do("write warning", waitSelector(`[data-testid=sql-write-warning]`))
	b.waitText("Write mode is on.")
	b.runSQL("create table t(x int)", false, `[data-testid=sql-result][data-command=CREATE]`)
	b.runSQL("insert into t values (42)", false, `[data-testid=sql-result][data-command=INSERT][data-row-count="1"]`)
	b.waitText("committed (write mode)")
	b.screenshot("sql-write-mode-insert")

	// Back to read-only: the row is there.
	b.do("write mode off", chromedp.Click(chromedp.CSS(`#sql-write`), chromedp.NodeVisible))
	b.do("no warning", poll(`!document.querySelector('[data-testid=sql-write-warning]')`))
	b.runSQL("select x from t", false, `[data-testid=sql-result][data-command=SELECT][data-row-count="1"]`)
	if got := b.text(`[data-testid=sql-result-table] tbody td`); got != "42" {
		t.Errorf("selected x reads %q, want 42", got)
	}

	// Save it; it is listed and loads back into the editor.
	b.fill(`#sql-save-name`, "the answer")
	b.click("Save query")
	b.do("saved listed", waitSelector(`[data-testid=sql-saved] li[data-saved="the answer"]`))
	b.waitText("Saved “the answer”.")
	b.screenshot("sql-saved")

	// History: newest first, with the failed read-only CREATE TABLE; clicking loads it.
	b.do("history", waitSelector(`[data-testid=sql-history] button[data-history-sql="select x from t"]`))
	b.do("load from history", poll(`(() => {
		const btn = [...document.querySelectorAll('[data-testid=sql-history] button[data-history-sql]')].find(e => e.dataset.historySql === 'create table t(x int)');
		if (btn) btn.click();
		return !!btn;
	})()`))
	b.do("editor loaded", poll(`document.querySelector('#sql-editor').value === 'create table t(x int)'`))
	b.do("load saved", clickIn(`[data-testid=sql-saved] li[data-saved="the answer"]`, "Load"))
	b.do("editor loaded from saved", poll(`document.querySelector('#sql-editor').value === 'select x from t'`))

	// The schema browser shows the new table and its column (refreshing
	// until the schema cache has seen the DDL).
	b.do("table in schema browser", poll(`(() => {
		if (document.querySelector('[data-testid=sql-schema] li[data-table="public.t"]')) return true;
		const btn = [...document.querySelectorAll('[data-testid=sql-schema] button')].find(e => e.textContent.trim() === 'Refresh' && !e.disabled);
		if (btn && (!window.__lastRefresh || Date.now() - window.__lastRefresh > 1000)) { window.__lastRefresh = Date.now(); btn.click(); }
		return false;
	})()`))
	b.do("open table", chromedp.Click(chromedp.CSS(`[data-testid=sql-schema] li[data-table="public.t"] summary`), chromedp.NodeVisible))
	col := b.text(`[data-testid=sql-schema] li[data-table="public.t"] li[data-column=x]`)
	if !strings.HasPrefix(col, "x ") {
		t.Errorf("schema browser column reads %q", col)
	}
	b.screenshot("sql-schema-browser")
	t.Logf("schema browser: public.t column %q", col)

	// A non-admin sees no SQL link, and the screen itself says admins only.
	other := uniqueEmail("sqluser")
	st.register(t, other, false)
	u := newBrowser(t, st.base)
	u.signIn(other, "/account")
	u.waitText("Permissions")
	var links []string
	u.eval(`[...document.querySelectorAll('nav[aria-label=Main] a')].map(a => a.textContent)`, &links)
	for _, l := range links {
		if l == "SQL" {
			t.Errorf("a non-admin sees the SQL link: %v", links)
		}
	}
	u.open("/admin/sql")
	u.waitText("The SQL workbench is for admins only.")

	entry, gz := entryBundle(t)
	t.Logf("entry bundle %s %s gzipped", entry, fmt.Sprintf("%.1f KB", float64(gz)/1024))
}
