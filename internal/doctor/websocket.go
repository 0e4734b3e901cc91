package doctor

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// EchoWebSocket answers GET /api/doctor/ws: it accepts the upgrade, says
// "truss" and closes, so the proxy check can tell whether WebSocket upgrades
// (realtime) get through the reverse proxy.
func EchoWebSocket(w http.ResponseWriter, r *http.Request) error {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil // Accept has already answered the client
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	_ = c.Write(ctx, websocket.MessageText, []byte("truss"))
	// The connection is hijacked: nothing may be written to w any more, so a
	// close error is not reported through the error handler.
	_ = c.Close(websocket.StatusNormalClosure, "")
	return nil
}

// webSocketVerdict dials the echo through TRUSS_PUBLIC_URL.
func webSocketVerdict(ctx context.Context, c Check, env *Env) Result {
	url := "ws" + strings.TrimPrefix(env.Cfg.PublicURL.String(), "http") + "/api/doctor/ws"
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: env.HTTP})
	if err != nil {
		status := "no answer"
		if resp != nil {
			status = resp.Status
		}
		return c.resultFix(Fail, "WebSocket upgrade to "+url+" refused ("+status+"): "+err.Error(),
			`Let the proxy pass upgrades (Nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade").`)
	}
	defer conn.CloseNow()
	_, msg, err := conn.Read(ctx)
	if err != nil || string(msg) != "truss" {
		return c.resultFix(Fail, "WebSocket to "+url+" opened but did not carry Truss's message", "Check the proxy's WebSocket timeouts and buffering.")
	}
	return c.result(OK, "WebSocket upgrade passes through to Truss ("+url+")")
}
