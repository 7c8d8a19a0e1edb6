package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/bench"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/testfake"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// siobench runs the command line against a fake server and returns the exit
// status, stdout and stderr.
func siobench(t *testing.T, f testfake.Faults, args ...string) (int, string, string) {
	t.Helper()
	srv := testfake.Start(time.Second, f)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	o, err := parseFlags(append(args, "-url", srv.URL, "-grace", "20ms", "-timeout", "500ms"), &stderr)
	if err != nil {
		return 2, stdout.String(), stderr.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := execute(ctx, o, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestJSONOutput(t *testing.T) {
	code, out, errOut := siobench(t, testfake.Faults{}, "echo", "-c", "3", "-count", "30", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if !res.OK || res.Ops != 30 || res.Scenario != "echo" || res.Unit != "acks" {
		t.Errorf("unexpected result %+v", res)
	}
}

func TestTableOutput(t *testing.T) {
	code, out, errOut := siobench(t, testfake.Faults{}, "-scenario", "broadcast", "-n", "5", "-count", "4")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"broadcast (websocket)", "deliveries", "20 in", "result", "OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFailureExitStatus(t *testing.T) {
	code, out, errOut := siobench(t, testfake.Faults{DropAck: 3}, "echo", "-c", "1", "-count", "10")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %s", code, out)
	}
	if !strings.Contains(errOut, "FAILED") || !strings.Contains(errOut, "lost") {
		t.Errorf("stderr does not explain the failure: %s", errOut)
	}
	if !strings.Contains(out, "FAILED") {
		t.Errorf("table does not say FAILED: %s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"nok, no scenario", nil},
		{"nok, unknown scenario", []string{"flood"}},
		{"nok, unknown flag", []string{"echo", "-bogus"}},
		{"nok, stray argument", []string{"echo", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if _, err := parseFlags(tt.args, &stderr); err == nil {
				t.Fatalf("parseFlags(%q) accepted", tt.args)
			}
			if stderr.Len() == 0 {
				t.Errorf("no usage message")
			}
		})
	}
}
