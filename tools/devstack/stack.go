package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// sigFastShutdown makes the postmaster disconnect clients and stop at once.
const sigFastShutdown = syscall.SIGINT

// Stack manages the local servers recorded in one state directory.
type Stack struct {
	// Dir holds state.json, env and the lock file.
	Dir string
	// Log receives progress messages (installs, starts, restarts).
	Log io.Writer

	installer installer
}

// New returns a Stack whose state lives in dir, created if needed.
func New(dir string, log io.Writer) (*Stack, error) {
	if log == nil {
		log = io.Discard
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("devstack: state directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("devstack: create state directory: %w", err)
	}
	return &Stack{Dir: abs, Log: log, installer: installer{log: log}}, nil
}

// lock takes an exclusive lock on the state directory until the returned
// function is called.
func (s *Stack) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devstack: open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("devstack: lock %s: %w", s.Dir, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// Up makes sure both servers run and answer, starting or restarting what is
// needed, and returns the resulting state.
func (s *Stack) Up(ctx context.Context) (State, error) {
	unlock, err := s.lock()
	if err != nil {
		return State{}, err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return State{}, err
	}

	if st.Postgres != nil {
		if err := checkPostgres(ctx, st.Postgres); err != nil {
			fmt.Fprintf(s.Log, "devstack: recorded postgres is unhealthy (%v); starting a new one\n", err)
			_ = s.stopPostgres(st.Postgres)
			st.Postgres = nil
		} else {
			fmt.Fprintf(s.Log, "devstack: reusing postgres (pid %d, port %d)\n", st.Postgres.PID, st.Postgres.Port)
		}
	}
	if st.Postgres == nil {
		srv, err := s.startPostgres(ctx)
		if err != nil {
			return st, errors.Join(err, s.saveState(st))
		}
		fmt.Fprintf(s.Log, "devstack: started postgres (pid %d, port %d, data in %s)\n", srv.PID, srv.Port, srv.Root)
		st.Postgres = srv
		if err := s.saveState(st); err != nil {
			return st, err
		}
	}

	if st.Redis != nil {
		if err := checkRedis(ctx, st.Redis); err != nil {
			fmt.Fprintf(s.Log, "devstack: recorded redis is unhealthy (%v); starting a new one\n", err)
			_ = s.stopRedis(st.Redis)
			st.Redis = nil
		} else {
			fmt.Fprintf(s.Log, "devstack: reusing redis (pid %d, port %d)\n", st.Redis.PID, st.Redis.Port)
		}
	}
	if st.Redis == nil {
		srv, err := s.startRedis(ctx)
		if err != nil {
			return st, errors.Join(err, s.saveState(st))
		}
		fmt.Fprintf(s.Log, "devstack: started redis (pid %d, port %d)\n", srv.PID, srv.Port)
		st.Redis = srv
	}
	return st, s.saveState(st)
}

// Down stops the servers this stack started and removes their files.
func (s *Stack) Down(ctx context.Context) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	var errs []error
	if st.Postgres != nil {
		if err := s.stopPostgres(st.Postgres); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(s.Log, "devstack: stopped postgres (pid %d)\n", st.Postgres.PID)
			st.Postgres = nil
		}
	}
	if st.Redis != nil {
		if err := s.stopRedis(st.Redis); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(s.Log, "devstack: stopped redis (pid %d)\n", st.Redis.PID)
			st.Redis = nil
		}
	}
	if len(errs) > 0 {
		return errors.Join(append(errs, s.saveState(st))...)
	}
	for _, p := range []string{s.statePath(), s.EnvPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Health is the result of Status for one server.
type Health struct {
	Name   string
	Server *Server // nil when none is recorded
	Err    error   // nil when the server runs and answers
}

// Status reports, without changing anything, whether each recorded server
// runs and answers.
func (s *Stack) Status(ctx context.Context) ([]Health, error) {
	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	h := []Health{{Name: "postgres", Server: st.Postgres}, {Name: "redis", Server: st.Redis}}
	if st.Postgres == nil {
		h[0].Err = errors.New("not started")
	} else {
		h[0].Err = checkPostgres(ctx, st.Postgres)
	}
	if st.Redis == nil {
		h[1].Err = errors.New("not started")
	} else {
		h[1].Err = checkRedis(ctx, st.Redis)
	}
	return h, nil
}
