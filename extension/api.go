package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// client speaks the Extensions API (2020-01-01) and the Telemetry API
// (2022-07-01) at AWS_LAMBDA_RUNTIME_API.
type client struct {
	base string // http://host:port
	name string // Lambda-Extension-Name: the executable's file name
	id   string // Lambda-Extension-Identifier, once registered
	http *http.Client
}

// event is an INVOKE or SHUTDOWN event.
type event struct {
	EventType      string `json:"eventType"`
	RequestID      string `json:"requestId"`
	DeadlineMs     int64  `json:"deadlineMs"`
	ShutdownReason string `json:"shutdownReason"`
}

func newClient(api, name string) *client {
	return &client{base: "http://" + api, name: name, http: &http.Client{Transport: &http.Transport{Proxy: nil}}}
}

// do sends one request and returns the answer's body; a non-2xx status is
// an error with the status and a bounded part of the body.
func (c *client) do(ctx context.Context, method, path string, body []byte, hdr map[string]string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c.id != "" {
		req.Header.Set("Lambda-Extension-Identifier", c.id)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%s %s: HTTP %d: %.200s", method, path, resp.StatusCode, b)
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
