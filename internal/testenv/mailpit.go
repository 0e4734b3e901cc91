package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"
)

// Mail is one message as Mailpit stores it.
type Mail struct {
	ID      string
	Subject string
	Text    string
}

// WaitForMail polls the stack's Mailpit until a message to `to` whose text
// matches re arrives (Kratos's courier sends asynchronously), or fails the
// test after 20 s. It returns the message and re's first submatch.
func WaitForMail(t testing.TB, to string, re *regexp.Regexp) (Mail, string) {
	t.Helper()
	base := os.Getenv("TRUSS_DEV_MAILPIT_URL")
	if base == "" {
		t.Fatal("no Mailpit: TRUSS_DEV_MAILPIT_URL is unset (run under testenv.Main or make test)")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Messages []struct {
				ID      string `json:"ID"`
				Subject string `json:"Subject"`
			} `json:"messages"`
		}
		if getJSON(base+"/api/v1/search?query="+url.QueryEscape(fmt.Sprintf("to:%q", to)), &list) == nil {
			for _, m := range list.Messages {
				var msg struct {
					Text string `json:"Text"`
				}
				if getJSON(base+"/api/v1/message/"+m.ID, &msg) != nil {
					continue
				}
				if sub := re.FindStringSubmatch(msg.Text); sub != nil {
					match := sub[0]
					if len(sub) > 1 {
						match = sub[1]
					}
					return Mail{ID: m.ID, Subject: m.Subject, Text: msg.Text}, match
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail to %s matching %s within 20s", to, re)
	return Mail{}, ""
}

// DeleteMail removes a message so a later wait cannot match it again.
func DeleteMail(t testing.TB, id string) {
	body, _ := json.Marshal(map[string]any{"IDs": []string{id}})
	req, _ := http.NewRequest(http.MethodDelete, os.Getenv("TRUSS_DEV_MAILPIT_URL")+"/api/v1/messages", bytesReader(body))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func getJSON(u string, out any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
