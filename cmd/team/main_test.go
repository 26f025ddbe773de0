package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no command", nil, 2, "usage: team <command>"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"help", []string{"-h"}, 0, "usage: team <command>"},
		{"help word", []string{"help"}, 0, "commands:"},
		{"command help", []string{"basket", "-h"}, 0, "-catalog"},
		{"unknown flag", []string{"shell", "--nope"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"search", "extra"}, 2, `unexpected argument "extra"`},
		{"bad catalogue", []string{"basket", "--catalog", "ftp://x"}, 2, "not an http(s) URL"},
		{"bad listen address", []string{"shell", "--listen", "nonsense"}, 1, "listen address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out teamtest.Logs
			code := run(t.Context(), tt.args, &out, func(map[string]string) {
				t.Error("services started")
			})
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}

// start runs the command in the background and returns the addresses of
// its services and a function that stops it and returns its exit code.
func start(t *testing.T, args ...string) (map[string]string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var out teamtest.Logs
	ready := make(chan map[string]string, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &out, func(a map[string]string) { ready <- a }) }()
	select {
	case addrs := <-ready:
		return addrs, func() int {
			cancel()
			code := <-done
			if !strings.Contains(out.String(), "shutting down") {
				t.Errorf("no shutdown logged:\n%s", out.String())
			}
			return code
		}
	case code := <-done:
		cancel()
		t.Fatalf("exited with %d before serving:\n%s", code, out.String())
		return nil, nil
	}
}

// get fetches url (see teamtest.Get) and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := teamtest.Get(t, url)
	return resp.StatusCode, body
}

func TestSingleTeams(t *testing.T) {
	tests := []struct {
		team, path string
	}{
		{"shell", "/shell/fragments/footer"},
		{"search", "/search/fragments/featured"},
		{"basket", "/basket/fragments/mini"},
	}
	for _, tt := range tests {
		t.Run(tt.team, func(t *testing.T) {
			addrs, stop := start(t, tt.team, "--listen", "127.0.0.1:0")
			if status, _ := get(t, "http://"+addrs[tt.team]+tt.path); status != http.StatusOK {
				t.Errorf("GET %s: status %d", tt.path, status)
			}
			if code := stop(); code != 0 {
				t.Errorf("exit code = %d, want 0", code)
			}
		})
	}
}

func TestAll(t *testing.T) {
	addrs, stop := start(t, "all", "--shell", "127.0.0.1:0", "--search", "127.0.0.1:0", "--basket", "127.0.0.1:0")
	if len(addrs) != 3 {
		t.Fatalf("addresses = %v, want three", addrs)
	}
	if status, body := get(t, "http://"+addrs["shell"]+"/shell/fragments/header"); status != 200 || !strings.Contains(body, "search-input") {
		t.Errorf("shell header: %d %q", status, body)
	}
	// The basket knows the search service's products, and only those.
	post := func(sku string) (int, string) { // status and the JSON answer, printed
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addrs["basket"]+"/basket/api/add",
			strings.NewReader(url.Values{"sku": {sku}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("add %s: %v", sku, err)
		}
		return resp.StatusCode, fmt.Sprint(v)
	}
	if status, body := post("boot-01"); status != 200 || body != "map[count:1]" {
		t.Errorf("add a catalogue product: %d %s, want 200 map[count:1]", status, body)
	}
	if status, body := post("not-in-catalogue"); status != 400 || body != "map[error:unknown product]" {
		t.Errorf("add an unknown product: %d %s, want 400 map[error:unknown product]", status, body)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if _, err := net.Dial("tcp", addrs["shell"]); err == nil {
		t.Error("shell still listening after shutdown")
	}
}

func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out teamtest.Logs
	code := run(t.Context(), []string{"all", "--shell", "127.0.0.1:0", "--search", ln.Addr().String(), "--basket", "127.0.0.1:0"}, &out, func(map[string]string) {
		t.Error("services started")
	})
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(out.String(), "search") || !strings.Contains(out.String(), "address already in use") {
		t.Errorf("error does not name the service and cause:\n%s", out.String())
	}
}
