package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Errors Upload wraps for the statuses a caller acts on.
var (
	// ErrUnauthorized: 401, the token is missing, wrong or expired.
	ErrUnauthorized = errors.New("grafana rejected the token (401 Unauthorized)")
	// ErrForbidden: 403, the token's role may not write dashboards in the folder.
	ErrForbidden = errors.New("grafana denied access (403 Forbidden)")
	// ErrPreconditionFailed: 412, a dashboard with the same uid (another
	// version) or the same title exists and overwrite was not asked for.
	// ErrVersionMismatch and ErrNameExists say which.
	ErrPreconditionFailed = errors.New("grafana refused to overwrite the dashboard (412 Precondition Failed)")
	// ErrVersionMismatch: 412 "version-mismatch", the dashboard's uid exists
	// with another version.
	ErrVersionMismatch = fmt.Errorf("%w: the dashboard exists with another version", ErrPreconditionFailed)
	// ErrNameExists: 412 "name-exists", another dashboard in the folder has
	// the same title.
	ErrNameExists = fmt.Errorf("%w: a dashboard with the same title exists in the folder", ErrPreconditionFailed)
	// ErrProvisioned: 400, the dashboard is provisioned from a file; the
	// API may not change it.
	ErrProvisioned = errors.New("grafana refused to change a provisioned dashboard (400 Bad Request)")
	// ErrUIDMismatch: Grafana saved the dashboard under another uid than the
	// one sent.
	ErrUIDMismatch = errors.New("grafana saved the dashboard under another uid")
)

// HTTPDoer sends HTTP requests; *http.Client is one.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client uploads dashboards to a Grafana instance through its HTTP API.
type Client struct {
	base      *url.URL
	token     string
	folder    string
	overwrite bool
	doer      HTTPDoer
	log       *slog.Logger
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithToken sets the service account token (or API key) sent as a Bearer token.
func WithToken(t string) ClientOption { return func(c *Client) { c.token = strings.TrimSpace(t) } }

// WithFolderUID uploads into the folder with this uid ("" the General folder).
func WithFolderUID(uid string) ClientOption { return func(c *Client) { c.folder = uid } }

// WithOverwrite replaces a dashboard that exists with the same uid (any
// version) or the same title in the folder. Default off: Grafana then
// answers 412 and Upload returns ErrVersionMismatch or ErrNameExists.
func WithOverwrite(on bool) ClientOption { return func(c *Client) { c.overwrite = on } }

// WithHTTPClient sets the HTTP client (default http.DefaultClient).
func WithHTTPClient(d HTTPDoer) ClientOption { return func(c *Client) { c.doer = d } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) ClientOption { return func(c *Client) { c.log = l } }

// NewClient returns a client for the Grafana at grafanaURL.
func NewClient(grafanaURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(grafanaURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("grafana url %q: want http(s)://host[:port][/path]", grafanaURL)
	}
	c := &Client{base: u, doer: http.DefaultClient, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// UploadResult is Grafana's answer to a saved dashboard.
type UploadResult struct {
	ID      int64  `json:"id"`
	UID     string `json:"uid"`
	URL     string `json:"url"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
}

// Upload saves a dashboard (its JSON model, as Marshal renders it) with
// POST /api/dashboards/db, replacing an existing one only WithOverwrite.
// Grafana's refusals come back as a *StatusError wrapping ErrVersionMismatch
// or ErrNameExists (412), ErrProvisioned (400), ErrUnauthorized or
// ErrForbidden; a reply naming another uid than the one sent is
// ErrUIDMismatch.
func (c *Client) Upload(ctx context.Context, dashboardJSON []byte) (UploadResult, error) {
	var res UploadResult
	var sent struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(dashboardJSON, &sent); err != nil {
		return res, fmt.Errorf("grafana upload: the dashboard is not a JSON object: %w", err)
	}
	body, err := json.Marshal(struct {
		Dashboard json.RawMessage `json:"dashboard"`
		Overwrite bool            `json:"overwrite"`
		FolderUID string          `json:"folderUid,omitempty"`
		Message   string          `json:"message"`
	}{Dashboard: dashboardJSON, Overwrite: c.overwrite, FolderUID: c.folder, Message: "lambdabridge dashboard"})
	if err != nil {
		return res, fmt.Errorf("grafana upload: %w", err)
	}
	if err := c.do(ctx, http.MethodPost, "/api/dashboards/db", body, &res); err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			se.explainSave(sent.UID, sent.Title)
		}
		return res, err
	}
	if sent.UID != "" && res.UID != sent.UID {
		return res, fmt.Errorf("grafana upload %q: %w: sent %q, saved as %q (%s)", sent.Title, ErrUIDMismatch, sent.UID, res.UID, res.URL)
	}
	c.log.Info("dashboard uploaded", "uid", res.UID, "url", res.URL, "version", res.Version)
	return res, nil
}

// explainSave names the cause of a refused save from Grafana's reply
// ({"status": "version-mismatch"|"name-exists", "message": ...}).
func (e *StatusError) explainSave(uid, title string) {
	var reply struct{ Status, Message string }
	_ = json.Unmarshal([]byte(e.Body), &reply)
	switch {
	case e.Status == http.StatusPreconditionFailed && reply.Status == "name-exists":
		e.err = fmt.Errorf("%w: %q is taken by another dashboard; change --title, or give --overwrite to replace it", ErrNameExists, title)
	case e.Status == http.StatusPreconditionFailed:
		e.err = fmt.Errorf("%w: uid %q exists (changed in Grafana since, or uploaded before); give --overwrite to replace it", ErrVersionMismatch, uid)
	case e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(reply.Message), "provisioned"):
		e.err = fmt.Errorf("%w: uid %q comes from a provisioning file; change the file in the provisioning tree, or upload under another --uid", ErrProvisioned, uid)
	}
}

// EnsureFolder creates the folder uid (titled title) unless it exists.
func (c *Client) EnsureFolder(ctx context.Context, uid, title string) error {
	err := c.do(ctx, http.MethodGet, "/api/folders/"+url.PathEscape(uid), nil, nil)
	var se *StatusError
	if err == nil || !errors.As(err, &se) || se.Status != http.StatusNotFound {
		return err
	}
	body, _ := json.Marshal(map[string]string{"uid": uid, "title": title})
	return c.do(ctx, http.MethodPost, "/api/folders", body, nil)
}

// StatusError is a non-2xx answer from Grafana.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string // at most 512 bytes, the token removed
	err         error
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.err != nil {
		msg = fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.err)
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (e *StatusError) Unwrap() error { return e.err }

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("grafana %s %s: %w", method, u.Redacted(), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		return fmt.Errorf("grafana %s %s: %w", method, u.Redacted(), c.redactErr(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("grafana %s %s: read reply: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Method: method, URL: u.Redacted(), Status: resp.StatusCode, Body: c.bounded(data)}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			se.err = fmt.Errorf("%w: check --grafana-token-file or GRAFANA_TOKEN (a service account token with the Editor role)", ErrUnauthorized)
		case http.StatusForbidden:
			se.err = fmt.Errorf("%w: the token's service account needs the Editor role or write access to the folder", ErrForbidden)
		case http.StatusPreconditionFailed:
			se.err = ErrPreconditionFailed
		}
		return se
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("grafana %s %s: decode reply: %w", method, u.Redacted(), err)
		}
	}
	return nil
}

// bounded returns at most 512 bytes of a reply, without the token.
func (c *Client) bounded(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512] + "..."
	}
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[token]")
	}
	return s
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func (c *Client) redactErr(err error) error {
	if c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), c.token, "[token]"), err: err}
}
