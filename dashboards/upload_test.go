package dashboards_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	if !got.Overwrite || got.FolderUID != "lambdabridge" || got.Dashboard["uid"] != "lambda-shop" {
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
		{http.StatusPreconditionFailed, dashboards.ErrPreconditionFailed, "same title"},
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
