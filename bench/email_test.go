//go:build bench

package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	gomail "github.com/wneessen/go-mail"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/testenv"
)

// TestBenchEmailOutboxThroughput measures how fast the outbox drains into
// the stack's Mailpit with one worker and with several, against a baseline
// of the same messages sent straight over one reused SMTP connection (no
// database). Reported: messages/s and the ratios outbox(1)/direct and
// outbox(N)/outbox(1).
func TestBenchEmailOutboxThroughput(t *testing.T) {
	cfg := testenv.Config(t, map[string]string{"DATABASE_MAX_CONNS": "20"})
	pool := testenv.Pool(t, cfg)
	const n, workers, rounds = 300, 4, 2
	token := strings.ToLower(rand.Text()[:8])
	var direct, one, many time.Duration
	for round := range rounds { // interleaved so drift hits all three equally
		direct += sendDirect(t, cfg, n, token, round)
		one += drain(t, cfg, pool, n, 1, token)
		many += drain(t, cfg, pool, n, workers, token)
	}
	rate := func(d time.Duration) float64 { return float64(n*rounds) / d.Seconds() }
	t.Logf("direct SMTP, 1 connection:   %6.0f msg/s (%d messages in %s)", rate(direct), n*rounds, direct.Round(time.Millisecond))
	t.Logf("outbox, 1 worker:            %6.0f msg/s (%s)", rate(one), one.Round(time.Millisecond))
	t.Logf("outbox, %d workers:           %6.0f msg/s (%s)", workers, rate(many), many.Round(time.Millisecond))
	t.Logf("outbox(1)/direct throughput: %.2fx", rate(one)/rate(direct))
	t.Logf("outbox(%d)/outbox(1):         %.2fx", workers, rate(many)/rate(one))
	if got := mailpitCount(t, "bench "+token); got != 3*n*rounds {
		t.Errorf("Mailpit holds %d bench messages, want %d (each exactly once)", got, 3*n*rounds)
	}
	if rate(one) < rate(direct)/3 {
		t.Errorf("the outbox sends at %.2fx the direct rate, target at least 0.33x", rate(one)/rate(direct))
	}
}

// sendDirect is the baseline: go-mail straight to Mailpit, one connection
// for all n messages, no database.
func sendDirect(t *testing.T, cfg config.Config, n int, token string, round int) time.Duration {
	c, err := gomail.NewClient(cfg.SMTP.Host, gomail.WithPort(cfg.SMTP.Port), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithTimeout(cfg.SMTP.Timeout))
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]*gomail.Msg, n)
	for i := range msgs {
		m := gomail.NewMsg()
		_ = m.From(cfg.SMTP.From)
		_ = m.To(fmt.Sprintf("direct-%d-%d@bench-%s.test", round, i, token))
		m.Subject("bench " + token + " direct")
		m.SetBodyString(gomail.TypeTextPlain, "New sign-in to your Truss account.\n")
		msgs[i] = m
	}
	start := time.Now()
	if err := c.DialAndSend(msgs...); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// drain queues n messages, then starts `workers` workers and times how long
// they take to send them all.
func drain(t *testing.T, cfg config.Config, pool *pgxpool.Pool, n, workers int, token string) time.Duration {
	t.Helper()
	ctx := context.Background()
	svc := email.New(cfg, pool, testenv.Logger(t), email.Options{Workers: workers, PollInterval: 20 * time.Millisecond})
	kind := "bench " + token + " outbox " + strconv.Itoa(workers)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for i := range n {
			if _, err := svc.EnqueueMessage(ctx, tx, email.Message{To: fmt.Sprintf("w%d-%d-%s@bench-%s.test", workers, i, rand.Text()[:6], token),
				Subject: kind, Text: "New sign-in to your Truss account.\n", Kind: "bench"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stop := svc.Start(ctx)
	defer stop()
	for {
		var pending int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM truss_internal.email_outbox WHERE status <> 'sent'").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return time.Since(start)
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("%d messages still unsent after 2 minutes", pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mailpitCount(t *testing.T, subject string) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(os.Getenv("TRUSS_DEV_MAILPIT_URL") + "/api/v1/search?limit=1&query=" + url.QueryEscape(fmt.Sprintf("subject:%q", subject)))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Count int `json:"messages_count"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if r.Count >= 0 && (time.Now().After(deadline) || r.Count > 0) {
			return r.Count
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBenchEmailEnqueueCost compares a request that records an action the
// way Truss's handlers do (JSON body, one transaction: the action's row and
// its audit event, JSON answer) with the same request that also queues a
// templated mail in that transaction (render, validate, insert). Target: at
// most 2x. For scale, it also reports a third statement that is not a mail
// (a second action row), the floor of any extra work in the transaction.
func TestBenchEmailEnqueueCost(t *testing.T) {
	cfg := testenv.Config(t, map[string]string{"DATABASE_MAX_CONNS": "20"})
	pool := testenv.Pool(t, cfg)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE bench_actions (id bigserial PRIMARY KEY, name text NOT NULL, at timestamptz NOT NULL DEFAULT now())"); err != nil {
		t.Fatal(err)
	}
	svc := email.New(cfg, pool, testenv.Logger(t), email.Options{}) // no workers: measure the request only
	const none, mail, extraRow = 0, 1, 2
	handler := func(mode int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Name string `json:"name"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			var id int64
			err := pgx.BeginFunc(r.Context(), pool, func(tx pgx.Tx) error {
				if err := tx.QueryRow(r.Context(), "INSERT INTO bench_actions (name) VALUES ($1) RETURNING id", in.Name).Scan(&id); err != nil {
					return err
				}
				if _, err := tx.Exec(r.Context(), `INSERT INTO truss_internal.audit_events (action, success, subject, details)
					VALUES ('api_key_create', true, $1, $2)`, in.Name, map[string]any{"id": id}); err != nil {
					return err
				}
				switch mode {
				case mail:
					_, err := svc.Enqueue(r.Context(), tx, "ada@example.com", email.APIKeyCreated{KeyName: in.Name,
						KeyPrefix: "trs_1234", CreatedBy: "ada@example.com", CreatedAt: time.Now(), IP: "192.0.2.1"})
					return err
				case extraRow:
					_, err := tx.Exec(r.Context(), "INSERT INTO bench_actions (name) VALUES ($1)", in.Name)
					return err
				}
				return nil
			})
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": in.Name})
		}
	}
	servers := map[int]*httptest.Server{}
	for _, m := range []int{none, mail, extraRow} {
		servers[m] = httptest.NewServer(handler(m))
		defer servers[m].Close()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	req := func(m int) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest("POST", servers[m].URL, strings.NewReader(`{"name":"deploy key"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}
	}
	const n, conc, rounds = 2000, 8, 3
	for _, m := range []int{none, mail, extraRow} {
		load("warm-up", 300, conc, client, req(m))
	}
	var rps [3]float64
	names := [3]string{"action + audit", "action + audit + mail", "action + audit + one more row"}
	for i := range rounds { // interleaved so drift hits all equally
		for _, m := range []int{none, mail, extraRow} {
			res := load(fmt.Sprintf("%s, round %d", names[m], i+1), n, conc, client, req(m))
			t.Log(res)
			if res.statuses[http.StatusCreated] != n {
				t.Fatalf("statuses %v", res.statuses)
			}
			rps[m] += res.rps()
		}
	}
	ratio := rps[none] / rps[mail]
	t.Logf("cost ratio with mail / without: %.2fx (target <= 2.00x); one more plain row: %.2fx", ratio, rps[none]/rps[extraRow])
	if ratio > 2 {
		t.Errorf("queueing a mail costs %.2fx the request without it, target 2x", ratio)
	}
}
