package testkit_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
)

// TestPingRedis: PingRedis accepts exactly a +PONG answer to an inline
// PING, and says what a server answered otherwise (here a loopback
// listener playing the server).
func TestPingRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  string // "" closes the connection without a word
		wantErr string // "" for success
	}{
		{"PONG", "+PONG\r\n", ""},
		{"a password is asked", "-NOAUTH Authentication required.\r\n", `answered "-NOAUTH Authentication required." to PING`},
		{"closed without an answer", "", "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan string, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					got <- err.Error()
					return
				}
				defer conn.Close()
				line, _ := bufio.NewReader(conn).ReadString('\n')
				got <- strings.TrimSpace(line)
				if tc.answer != "" {
					_, _ = conn.Write([]byte(tc.answer))
				}
			}()
			err = testkit.PingRedis(context.Background(), ln.Addr().String())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("PingRedis: %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("PingRedis: %v, want an error containing %q", err, tc.wantErr)
			}
			if line := <-got; line != "PING" {
				t.Errorf("the server read %q, want PING", line)
			}
		})
	}

	t.Run("nothing listens", func(t *testing.T) {
		t.Parallel()
		port, err := testkit.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if err := testkit.PingRedis(context.Background(), "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			t.Error("PingRedis of a closed port: nil, want an error")
		}
	})
}
