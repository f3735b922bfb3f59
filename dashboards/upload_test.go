package dashboards_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/dashboards"
)

const secret = "glsa_secret_token_123"

func TestUpload(t *testing.T) {
	var got struct {
		Dashboard map[string]any `json:"dashboard"`
		Overwrite bool           `json:"overwrite"`
		FolderUID string         `json:"folderUid"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/grafana/api/dashboards/db" {
			http.Error(w, "wrong endpoint", http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+secret || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"id":7,"uid":"lambda-shop","url":"/grafana/d/lambda-shop/x","status":"success","version":3,"slug":"x"}`))
	}))
	defer srv.Close()

	c, err := dashboards.NewClient(srv.URL+"/grafana/", dashboards.WithToken(secret+"\n"), dashboards.WithFolderUID("lambdabridge"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Upload(context.Background(), []byte(`{"uid":"lambda-shop","title":"Shop"}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.UID != "lambda-shop" || res.Version != 3 || res.URL != "/grafana/d/lambda-shop/x" {
		t.Errorf("result = %+v", res)
	}
	if got.Overwrite || got.FolderUID != "lambdabridge" || got.Dashboard["uid"] != "lambda-shop" {
		t.Errorf("request = %+v", got)
	}
	if _, err := c.Upload(context.Background(), []byte(`{not json`)); err == nil {
		t.Error("invalid JSON uploaded")
	}
}

func TestUploadErrors(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   error
		says   string
	}{
		{http.StatusUnauthorized, dashboards.ErrUnauthorized, "token"},
		{http.StatusForbidden, dashboards.ErrForbidden, "Editor"},
		{http.StatusPreconditionFailed, dashboards.ErrPreconditionFailed, "--overwrite"},
		{http.StatusInternalServerError, nil, "500 Internal Server Error"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A server that echoes the credentials must not get them printed.
			w.WriteHeader(tt.status)
			w.Write([]byte(`{"message":"denied for ` + r.Header.Get("Authorization") + `"}` + strings.Repeat("x", 2000)))
		}))
		c, _ := dashboards.NewClient(srv.URL, dashboards.WithToken(secret))
		_, err := c.Upload(context.Background(), []byte(`{"uid":"u"}`))
		srv.Close()
		if err == nil {
			t.Errorf("%d: no error", tt.status)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%d: %v is not %v", tt.status, err, tt.want)
		}
		var se *dashboards.StatusError
		if !errors.As(err, &se) || se.Status != tt.status {
			t.Errorf("%d: %v is not a StatusError", tt.status, err)
		}
		msg := err.Error()
		if strings.Contains(msg, secret) {
			t.Errorf("%d: the token is in the error: %s", tt.status, msg)
		}
		if !strings.Contains(msg, tt.says) || !strings.Contains(msg, "/api/dashboards/db") || len(msg) > 1200 {
			t.Errorf("%d: unhelpful error (%d bytes): %s", tt.status, len(msg), msg)
		}
	}
}

func TestEnsureFolder(t *testing.T) {
	var created string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/folders/lb":
			if created == "" {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(`{"uid":"lb"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/api/folders":
			b, _ := io.ReadAll(r.Body)
			created = string(b)
			w.Write([]byte(`{"uid":"lb"}`))
		default:
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	c, _ := dashboards.NewClient(srv.URL)
	for i := 0; i < 2; i++ {
		if err := c.EnsureFolder(context.Background(), "lb", "lambdabridge"); err != nil {
			t.Fatal(err)
		}
	}
	if created != `{"title":"lambdabridge","uid":"lb"}` {
		t.Errorf("created %s", created)
	}
	if _, err := dashboards.NewClient("localhost:3000"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

// fakeGrafana answers POST /api/dashboards/db as Grafana's dashboard service
// does (pkg/api/dashboard.go, pkg/services/dashboards): a saved dashboard
// gets version+1; without overwrite, an existing uid of another version is
// 412 version-mismatch and another uid with the same title 412 name-exists;
// a provisioned dashboard is 400 whatever overwrite says. Grafana itself is
// not obtainable here (AGPL, no package).
type fakeGrafana struct {
	saved       map[string]fakeDashboard // by uid
	provisioned map[string]bool
	answerUID   string // when set, the uid the reply names (a misbehaving proxy)
}

type fakeDashboard struct {
	title   string
	version int
}

func (g *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Dashboard struct {
			UID     string `json:"uid"`
			Title   string `json:"title"`
			Version int    `json:"version"`
		} `json:"dashboard"`
		Overwrite bool `json:"overwrite"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/api/dashboards/db" {
		http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	d := req.Dashboard
	reply := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	if g.provisioned[d.UID] {
		reply(http.StatusBadRequest, `{"message":"Cannot save provisioned dashboard"}`)
		return
	}
	old, exists := g.saved[d.UID]
	if !req.Overwrite {
		if exists && old.version != d.Version {
			reply(http.StatusPreconditionFailed, `{"message":"The dashboard has been changed by someone else","status":"version-mismatch"}`)
			return
		}
		for uid, o := range g.saved {
			if uid != d.UID && o.title == d.Title {
				reply(http.StatusPreconditionFailed, `{"message":"A dashboard with the same name in the folder already exists","status":"name-exists"}`)
				return
			}
		}
	}
	for uid, o := range g.saved { // overwrite by title replaces the other one
		if uid != d.UID && o.title == d.Title {
			delete(g.saved, uid)
		}
	}
	nd := fakeDashboard{title: d.Title, version: old.version + 1}
	g.saved[d.UID] = nd
	uid := d.UID
	if g.answerUID != "" {
		uid = g.answerUID
	}
	reply(http.StatusOK, `{"id":1,"uid":"`+uid+`","url":"/d/`+uid+`/x","status":"success","version":`+strconv.Itoa(nd.version)+`}`)
}

func TestUploadOverwriteAndRefusals(t *testing.T) {
	dash := func(uid, title string) []byte { return []byte(`{"uid":"` + uid + `","title":"` + title + `"}`) }
	for _, tc := range []struct {
		name      string
		overwrite bool
		before    func(g *fakeGrafana)
		upload    []byte
		want      error
		says      string
		version   int64
	}{
		{"new dashboard", false, nil, dash("shop", "Shop"), nil, "", 1},
		{"same uid again without --overwrite", false, func(g *fakeGrafana) { g.saved["shop"] = fakeDashboard{"Shop", 2} },
			dash("shop", "Shop"), dashboards.ErrVersionMismatch, `uid "shop" exists`, 0},
		{"same uid with --overwrite", true, func(g *fakeGrafana) { g.saved["shop"] = fakeDashboard{"Shop", 2} },
			dash("shop", "Shop"), nil, "", 3},
		{"same title, another uid", false, func(g *fakeGrafana) { g.saved["other"] = fakeDashboard{"Shop", 1} },
			dash("shop", "Shop"), dashboards.ErrNameExists, "change --title", 0},
		{"same title with --overwrite", true, func(g *fakeGrafana) { g.saved["other"] = fakeDashboard{"Shop", 1} },
			dash("shop", "Shop"), nil, "", 1},
		{"provisioned", true, func(g *fakeGrafana) { g.provisioned["shop"] = true },
			dash("shop", "Shop"), dashboards.ErrProvisioned, "provisioning", 0},
		{"another uid answered", false, func(g *fakeGrafana) { g.answerUID = "xyz" },
			dash("shop", "Shop"), dashboards.ErrUIDMismatch, `saved as "xyz"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeGrafana{saved: map[string]fakeDashboard{}, provisioned: map[string]bool{}}
			if tc.before != nil {
				tc.before(g)
			}
			srv := httptest.NewServer(g)
			defer srv.Close()
			c, err := dashboards.NewClient(srv.URL, dashboards.WithOverwrite(tc.overwrite))
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Upload(context.Background(), tc.upload)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Upload: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("Upload = %v, want %v", err, tc.want)
			case tc.want != nil && !strings.Contains(err.Error(), tc.says):
				t.Errorf("error does not say %q: %v", tc.says, err)
			case tc.want == nil && res.Version != tc.version:
				t.Errorf("version %d, want %d", res.Version, tc.version)
			}
			if errors.Is(tc.want, dashboards.ErrPreconditionFailed) && !errors.Is(err, dashboards.ErrPreconditionFailed) {
				t.Errorf("%v does not wrap ErrPreconditionFailed", err)
			}
		})
	}
}
