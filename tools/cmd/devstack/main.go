// Command devstack starts, reuses, reports on and stops the local PostgreSQL
// and Redis servers used by Strata's tests, demo and benchmarks.
//
// Usage:
//
//	devstack [-dir DIR] up       start what is missing; print the env lines
//	devstack [-dir DIR] env      print the env lines as `export` statements
//	devstack [-dir DIR] status   report each server; exit 1 unless all are healthy
//	devstack [-dir DIR] down     stop the servers this stack started
//
// DIR (default .devstack) holds the state file and the env file, which has
// STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR in KEY=value form.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/tools/devstack"
)

func main() {
	dir := flag.String("dir", ".devstack", "directory for the state and env files")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: devstack [-dir DIR] up|env|status|down\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	if err := runCommand(ctx, *dir, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runCommand(ctx context.Context, dir, verb string) error {
	s, err := devstack.New(dir, os.Stderr)
	if err != nil {
		return err
	}
	switch verb {
	case "up":
		st, err := s.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Print(devstack.EnvLines(st.Env(), ""))
		return nil
	case "env":
		b, err := os.ReadFile(s.EnvPath())
		if err != nil {
			return fmt.Errorf("devstack: no env file; run `devstack up` (or `make stack-up`) first: %w", err)
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		fmt.Print(devstack.EnvLines(env, "export "))
		return nil
	case "status":
		hs, err := s.Status(ctx)
		if err != nil {
			return err
		}
		healthy := true
		for _, h := range hs {
			switch {
			case h.Server == nil:
				fmt.Printf("%-9s not started\n", h.Name)
			case h.Err != nil:
				fmt.Printf("%-9s pid %-7d %-45s DOWN: %v\n", h.Name, h.Server.PID, h.Server.Addr, h.Err)
			default:
				fmt.Printf("%-9s pid %-7d %-45s ok\n", h.Name, h.Server.PID, h.Server.Addr)
			}
			healthy = healthy && h.Err == nil
		}
		if !healthy {
			return fmt.Errorf("devstack: not every server is healthy; run `make stack-up`")
		}
		return nil
	case "down":
		return s.Down(ctx)
	default:
		return fmt.Errorf("devstack: unknown command %q (want up, env, status or down)", verb)
	}
}
