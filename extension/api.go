package extension

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// client speaks the Extensions API (2020-01-01) and the Telemetry API
// (2022-07-01) at AWS_LAMBDA_RUNTIME_API, over one kept-alive HTTP/1.1
// connection: it writes each request itself and reads the answer with
// http.ReadResponse (status, headers, a body with Content-Length or
// chunked). An http.Client's first request costs more CPU than the
// registration's whole exchange this way, at the cold start (0.64–0.98 ms
// against 0.27–0.49 ms on this project's machine, six programs each
// sending one request), and it adds a goroutine to every wait for next.
type client struct {
	addr string // host:port
	name string // Lambda-Extension-Name: the executable's file name
	id   string // Lambda-Extension-Identifier, once registered
	conn net.Conn
	br   *bufio.Reader
	req  []byte // the request being written
}

// event is an INVOKE or SHUTDOWN event.
type event struct {
	EventType      string `json:"eventType"`
	RequestID      string `json:"requestId"`
	DeadlineMs     int64  `json:"deadlineMs"`
	ShutdownReason string `json:"shutdownReason"`
}

func newClient(api, name string) *client { return &client{addr: api, name: name} }

// maxAnswer bounds the body of an answer the client reads.
const maxAnswer = 1 << 20

// do sends one request and returns the answer's body; a non-2xx status is
// an error with the status and a bounded part of the body. A request on a
// kept-alive connection that ends before any answer (the server closed
// it while idle) is sent once more on a new one.
func (c *client) do(ctx context.Context, method, path string, body []byte, hdr map[string]string) ([]byte, http.Header, error) {
	reused := c.conn != nil
	b, h, err := c.roundTrip(ctx, method, path, body, hdr)
	if err != nil && reused && ctx.Err() == nil && errors.Is(err, errNoAnswer) {
		b, h, err = c.roundTrip(ctx, method, path, body, hdr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return b, h, nil
}

// errNoAnswer: the request could not be written, or the connection ended
// before the answer began.
var errNoAnswer = errors.New("connection closed before an answer")

func (c *client) roundTrip(ctx context.Context, method, path string, body []byte, hdr map[string]string) (b []byte, h http.Header, err error) {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return nil, nil, err
		}
		c.conn, c.br = conn, bufio.NewReader(conn)
	}
	conn := c.conn
	// The context ends a wait (next may wait for the whole life of the
	// environment) by ending the connection's reads and writes.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() || err != nil { // the deadline may be set: the connection is done
			conn.Close()
			c.conn, c.br = nil, nil
		}
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}()
	r := append(c.req[:0], method...)
	r = append(append(append(r, ' '), path...), " HTTP/1.1\r\nHost: "...)
	r = append(append(r, c.addr...), "\r\n"...)
	for k, v := range hdr {
		r = append(append(append(append(r, k...), ": "...), v...), "\r\n"...)
	}
	if c.id != "" {
		r = append(append(append(r, "Lambda-Extension-Identifier: "...), c.id...), "\r\n"...)
	}
	if body != nil || method != http.MethodGet {
		r = strconv.AppendInt(append(r, "Content-Length: "...), int64(len(body)), 10)
		r = append(r, "\r\n"...)
	}
	r = append(append(r, "\r\n"...), body...)
	c.req = r
	if _, err := conn.Write(r); err != nil {
		// Nothing was answered: on a kept-alive connection the server
		// may have closed, the request can be sent again.
		return nil, nil, fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	if _, err := c.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return nil, nil, errNoAnswer
		}
		return nil, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err == nil {
		// What is left of a longer body is read and dropped, up to a
		// limit, so the connection can be kept.
		var n int64
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		if err == nil && n == maxAnswer {
			err = errors.New("answer of 2 MiB or more")
		}
	}
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.Close {
		conn.Close()
		c.conn, c.br = nil, nil
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	return b, resp.Header, nil
}

// register registers for events (INVOKE, SHUTDOWN).
func (c *client) register(ctx context.Context, events []string) error {
	// Written by hand, as subscribe's: in a profile of cold starts,
	// encoding/json's first Marshal (its reflection, first touched) was a
	// third of the registration's CPU.
	quoted := make([]string, len(events))
	for i, e := range events {
		quoted[i] = strconv.Quote(e) // event names are plain ASCII
	}
	body := []byte(`{"events":[` + strings.Join(quoted, ",") + `]}`)
	_, hdr, err := c.do(ctx, http.MethodPost, "/2020-01-01/extension/register", body,
		map[string]string{"Lambda-Extension-Name": c.name, "Content-Type": "application/json"})
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	c.id = hdr.Get("Lambda-Extension-Identifier")
	if c.id == "" {
		return fmt.Errorf("register: no Lambda-Extension-Identifier in the answer")
	}
	return nil
}

// next says the extension is done and waits for its next event.
func (c *client) next(ctx context.Context) (event, error) {
	b, _, err := c.do(ctx, http.MethodGet, "/2020-01-01/extension/event/next", nil, nil)
	if err != nil {
		return event{}, fmt.Errorf("next: %w", err)
	}
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		return event{}, fmt.Errorf("next: the event is not JSON: %w", err)
	}
	return ev, nil
}

// subscribe subscribes to the platform and function streams, delivered to
// http://sandbox.localdomain:port/ (buffered at most timeoutMs). An answer
// that carries an error is an error whatever its status: the Runtime
// Interface Emulator, which has no Telemetry API, answers 202 with
// {"errorType":"Telemetry.NotSupported",...}.
func (c *client) subscribe(ctx context.Context, port, timeoutMs int) error {
	body := `{"schemaVersion":"2022-12-13","types":["platform","function"],` +
		`"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":` + strconv.Itoa(timeoutMs) + `},` +
		`"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:` + strconv.Itoa(port) + `/"}}`
	b, _, err := c.do(ctx, http.MethodPut, "/2022-07-01/telemetry", []byte(body), map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return fmt.Errorf("telemetry subscribe: %w", err)
	}
	var answer struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(b, &answer) == nil && answer.ErrorType != "" {
		return fmt.Errorf("telemetry subscribe: %s: %.200s", answer.ErrorType, answer.ErrorMessage)
	}
	return nil
}
