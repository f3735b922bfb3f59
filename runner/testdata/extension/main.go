// Command extension is the runner's test external extension: a Lambda
// extension written against the documented Extensions API (2020-01-01) and
// Telemetry API (2022-07-01, schema 2022-12-13), with only the standard
// library, as an extension author would write one. It records what it
// receives as JSON lines in the file named by TESTEXT_OUT:
//
//	{"ext":"NAME","kind":"register","body":{...register answer...}}
//	{"ext":"NAME","kind":"event","body":{...INVOKE or SHUTDOWN event...}}
//	{"ext":"NAME","kind":"telemetry","body":{...one Telemetry API event...}}
//
// TESTEXT_EVENTS (default "INVOKE,SHUTDOWN") are the events it registers
// for; TESTEXT_INVOKE_MS makes it work that long on each INVOKE before its
// next call, TESTEXT_SHUTDOWN_MS that long on SHUTDOWN before it records
// {"kind":"shutdown-done"} and exits; TESTEXT_FAIL is "init" (it reports an init error), "exit" (it
// reports an exit error on its first INVOKE and exits), "crash" (it exits
// before registering) or "hang" (it never answers SHUTDOWN).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	api  = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API")
	name = filepath.Base(os.Args[0])
	mu   sync.Mutex
	out  *os.File
	// seen holds the request ids of the platform.report events received.
	seen = map[string]bool{}
)

func record(kind string, body json.RawMessage) {
	b, _ := json.Marshal(map[string]any{"ext": name, "kind": kind, "body": body})
	mu.Lock()
	defer mu.Unlock()
	out.Write(append(b, '\n'))
}

func main() {
	var err error
	out, err = os.OpenFile(os.Getenv("TESTEXT_OUT"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "extension:", err)
		os.Exit(1)
	}
	fail := os.Getenv("TESTEXT_FAIL")
	if fail == "crash" {
		fmt.Println("extension crashing before it registers")
		os.Exit(4)
	}
	events := strings.Split(envOr("TESTEXT_EVENTS", "INVOKE,SHUTDOWN"), ",")
	id := register(events)
	if fail == "init" {
		post("/2020-01-01/extension/init/error", id, "Extension.TestInitFailure", `{"errorMessage":"the extension cannot start","errorType":"Extension.TestInitFailure"}`)
		os.Exit(1)
	}
	subscribe(id)
	fmt.Println("extension " + name + " ready")
	loop(id, fail)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// register registers the extension and returns its identifier.
func register(events []string) string {
	body, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequest(http.MethodPost, api+"/2020-01-01/extension/register", bytes.NewReader(body))
	req.Header.Set("Lambda-Extension-Name", name)
	req.Header.Set("Lambda-Extension-Accept-Feature", "accountId")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fatal("register: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fatal("register: %s: %s", resp.Status, b)
	}
	record("register", b)
	return resp.Header.Get("Lambda-Extension-Identifier")
}

// subscribe listens for telemetry on sandbox.localdomain (the loopback
// interface where that name does not resolve) and subscribes to it.
func subscribe(id string) {
	ln, err := net.Listen("tcp", "sandbox.localdomain:0")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		fatal("listen: %v", err)
	}
	go http.Serve(ln, http.HandlerFunc(receive))
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	body := `{"schemaVersion":"2022-12-13","types":["platform","function","extension"],` +
		`"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},` +
		`"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:` + port + `/telemetry"}}`
	req, _ := http.NewRequest(http.MethodPut, api+"/2022-07-01/telemetry", strings.NewReader(body))
	req.Header.Set("Lambda-Extension-Identifier", id)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fatal("subscribe: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted && strings.Contains(string(b), "Telemetry.NotSupported") {
		// The Runtime Interface Emulator has no Telemetry API.
		fmt.Println("extension " + name + ": no Telemetry API here")
		return
	}
	if resp.StatusCode != http.StatusOK {
		fatal("subscribe: %s: %s", resp.Status, b)
	}
}

// receive records a batch of telemetry events.
func receive(w http.ResponseWriter, r *http.Request) {
	var batch []json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, ev := range batch {
		record("telemetry", ev)
		var head struct {
			Type   string `json:"type"`
			Record struct {
				RequestID string `json:"requestId"`
			} `json:"record"`
		}
		if json.Unmarshal(ev, &head) == nil && head.Type == "platform.report" {
			mu.Lock()
			seen[head.Record.RequestID] = true
			mu.Unlock()
		}
	}
}

// loop calls next until SHUTDOWN.
func loop(id, fail string) {
	work, _ := strconv.Atoi(os.Getenv("TESTEXT_INVOKE_MS"))
	shutdownWork, _ := strconv.Atoi(os.Getenv("TESTEXT_SHUTDOWN_MS"))
	last := ""
	for {
		req, _ := http.NewRequest(http.MethodGet, api+"/2020-01-01/extension/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fatal("next: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fatal("next: %s: %s", resp.Status, b)
		}
		record("event", b)
		var ev struct {
			EventType string `json:"eventType"`
			RequestID string `json:"requestId"`
			Deadline  int64  `json:"deadlineMs"`
		}
		json.Unmarshal(b, &ev)
		switch ev.EventType {
		case "INVOKE":
			fmt.Println("extension saw " + ev.RequestID)
			last = ev.RequestID
			if fail == "exit" {
				post("/2020-01-01/extension/exit/error", id, "Extension.TestExitFailure", `{"errorMessage":"the extension gives up","errorType":"Extension.TestExitFailure"}`)
				os.Exit(1)
			}
			time.Sleep(time.Duration(work) * time.Millisecond)
		case "SHUTDOWN":
			if fail == "hang" {
				select {}
			}
			// The report of the last invocation arrives during the
			// shutdown phase; wait for it until the deadline is near.
			until := time.UnixMilli(ev.Deadline).Add(-300 * time.Millisecond)
			for time.Now().Before(until) && !reported(last) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(time.Duration(shutdownWork) * time.Millisecond)
			record("shutdown-done", json.RawMessage(`{}`))
			fmt.Println("extension " + name + " shutting down")
			os.Exit(0)
		}
	}
}

func reported(id string) bool {
	mu.Lock()
	defer mu.Unlock()
	return id == "" || seen[id]
}

func post(path, id, typ, body string) {
	req, _ := http.NewRequest(http.MethodPost, api+path, strings.NewReader(body))
	req.Header.Set("Lambda-Extension-Identifier", id)
	req.Header.Set("Lambda-Extension-Function-Error-Type", typ)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "extension %s: "+format+"\n", append([]any{name}, args...)...)
	os.Exit(1)
}
