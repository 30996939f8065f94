package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// Writer instances run in child processes — the test binary (or the
// program) executed again with EnvChild set — so that the suite can SIGKILL
// them in the middle of a write. A child streams its operations to the
// parent as JSON lines on stdout, an invocation before the call and a
// completion after it, so an operation cut short by the kill is known to
// the parent as invoked and never completed: outcome unknown.

// EnvChild carries a child's ChildSpec, as JSON.
const EnvChild = "STRATA_CHAOS_CHILD"

// ChildSpec is everything a child needs.
type ChildSpec struct {
	Store   StoreSpec    `json:"store"`
	Work    WorkloadSpec `json:"work"`
	Epoch   int64        `json:"epoch"` // the run's time 0, Unix nanoseconds
	LogPath string       `json:"log_path"`
}

// IsChild reports whether this process was started as a child of the suite.
// A TestMain (or main) calls ChildMain first thing when it is.
func IsChild() bool { return os.Getenv(EnvChild) != "" }

// event is one line of the child protocol.
type event struct {
	T     string           `json:"t"` // inv, ret, ready, stopped, dump, closed, fatal
	Op    *Op              `json:"op,omitempty"`
	ID    int64            `json:"id,omitempty"`
	St    Status           `json:"st,omitempty"`
	Reads map[string]int64 `json:"reads,omitempty"`
	Err   string           `json:"err,omitempty"`
	At    int64            `json:"at,omitempty"`
	Dump  *Dump            `json:"dump,omitempty"`
}

// pipeRecorder is a child's Recorder: each event is one write(2) of one line.
type pipeRecorder struct {
	mu    sync.Mutex
	w     io.Writer
	epoch time.Time
}

func (p *pipeRecorder) emit(e event) {
	b, _ := json.Marshal(e)
	b = append(b, '\n')
	p.mu.Lock()
	_, _ = p.w.Write(b)
	p.mu.Unlock()
}

func (p *pipeRecorder) Now() int64   { return time.Since(p.epoch).Nanoseconds() }
func (p *pipeRecorder) Invoke(op Op) { p.emit(event{T: "inv", Op: &op}) }
func (p *pipeRecorder) Complete(id int64, st Status, reads map[string]int64, errText string, at int64) {
	p.emit(event{T: "ret", ID: id, St: st, Reads: reads, Err: errText, At: at})
}

// ChildMain runs a child: it opens its DataStore, runs its workload until
// the parent says "stop", answers "dump" with what its tiers serve, and
// closes on "close" (or when its stdin ends). It returns the exit code.
func ChildMain() int {
	var spec ChildSpec
	if err := json.Unmarshal([]byte(os.Getenv(EnvChild)), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "chaos child: bad %s: %v\n", EnvChild, err)
		return 2
	}
	epoch := time.Unix(0, spec.Epoch)
	rec := &pipeRecorder{w: os.Stdout, epoch: epoch}
	log, closer, err := newFileLogger(spec.LogPath, spec.Work.Proc, epoch)
	if err != nil {
		rec.emit(event{T: "fatal", Err: err.Error()})
		return 1
	}
	defer closer.Close()
	ds, err := OpenStore(spec.Store, log)
	if err != nil {
		rec.emit(event{T: "fatal", Err: err.Error()})
		return 1
	}
	rec.emit(event{T: "ready"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { RunWorkload(ctx, ds, rec, spec.Work); close(done) }()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "stop":
			cancel()
			<-done
			rec.emit(event{T: "stopped"})
		case "dump":
			d := DumpStore(context.Background(), ds, spec.Work.Keys)
			rec.emit(event{T: "dump", Dump: &d})
		case "close":
			cancel()
			<-done
			err := ds.Close()
			e := event{T: "closed"}
			if err != nil {
				e.Err = err.Error()
			}
			rec.emit(e)
			return 0
		}
	}
	cancel() // the parent is gone
	<-done
	_ = ds.Close()
	return 0
}

// Dump is what one instance serves after quiescence.
type Dump struct {
	// Values: "schema/key" → the version Get returns, 0 when absent.
	Values map[string]int64 `json:"values"`
	// Searches: "schema/bucket" → SearchCached's result, key by key (0 for
	// keys of the bucket it did not return).
	Searches map[string]map[string]int64 `json:"searches"`
	Errors   []string                    `json:"errors,omitempty"`
}

// DumpStore reads every key with Get and every bucket with SearchCached.
func DumpStore(ctx context.Context, ds *strata.DataStore, ks Keyspace) Dump {
	d := Dump{Values: map[string]int64{}, Searches: map[string]map[string]int64{}}
	for _, schema := range []string{SchemaWT, SchemaWB} {
		for _, key := range ks.Keys(schema) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			r, err := strata.GetTyped[Rec](cctx, ds, schema, key)
			cancel()
			switch {
			case errors.Is(err, strata.ErrNotFound):
				d.Values[schema+"/"+key] = 0
			case err != nil:
				d.Errors = append(d.Errors, fmt.Sprintf("Get %s/%s: %v", schema, key, err))
			default:
				d.Values[schema+"/"+key] = r.Ver
			}
		}
		for _, b := range ks.Buckets(schema) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			m, err := searchBucket(cctx, ds, ks, KindSearchCached, schema, b)
			cancel()
			if err != nil {
				d.Errors = append(d.Errors, fmt.Sprintf("SearchCached %s bucket %d: %v", schema, b, err))
				continue
			}
			d.Searches[fmt.Sprintf("%s/%d", schema, b)] = m
		}
	}
	return d
}

// Child is the parent's handle on one child process.
type Child struct {
	Slot, Proc string
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	events     chan event
	exited     chan struct{}
	stderr     *os.File
}

// StartChild starts exe as a child running spec, feeding its operations to h.
func StartChild(exe, slot string, spec ChildSpec, h *History, stderrPath string) (*Child, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), EnvChild+"="+string(b))
	stderr, err := os.OpenFile(stderrPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		stderr.Close()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		stderr.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		stderr.Close()
		return nil, fmt.Errorf("chaos: start child %s: %w", spec.Work.Proc, err)
	}
	c := &Child{Slot: slot, Proc: spec.Work.Proc, cmd: cmd, stdin: stdin, events: make(chan event, 16), exited: make(chan struct{}), stderr: stderr}
	go c.read(stdout, h)
	if _, err := c.await("ready", 60*time.Second); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

func (c *Child) read(stdout io.Reader, h *History) {
	defer close(c.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // a partial line written as the process died
		}
		switch e.T {
		case "inv":
			h.Invoke(*e.Op)
		case "ret":
			h.Complete(e.ID, e.St, e.Reads, e.Err, e.At)
		default:
			c.events <- e
		}
	}
	_ = c.cmd.Wait()
	c.stderr.Close()
	h.Abandon(c.Proc, "the process was killed before the call returned")
}

// await waits for the next protocol event, which must be of type t.
func (c *Child) await(t string, timeout time.Duration) (event, error) {
	select {
	case e := <-c.events:
		if e.T == "fatal" {
			return e, fmt.Errorf("chaos: child %s: %s", c.Proc, e.Err)
		}
		if e.T != t {
			return e, fmt.Errorf("chaos: child %s answered %q, want %q", c.Proc, e.T, t)
		}
		return e, nil
	case <-c.exited:
		return event{}, fmt.Errorf("chaos: child %s exited (waiting for %q)", c.Proc, t)
	case <-time.After(timeout):
		return event{}, fmt.Errorf("chaos: child %s: no %q within %v", c.Proc, t, timeout)
	}
}

// command sends cmd and waits for the answer t.
func (c *Child) command(cmd, t string, timeout time.Duration) (event, error) {
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		return event{}, fmt.Errorf("chaos: child %s: %w", c.Proc, err)
	}
	return c.await(t, timeout)
}

// Stop ends the child's workload.
func (c *Child) Stop() error { _, err := c.command("stop", "stopped", 60*time.Second); return err }

// Dump asks the child what it serves.
func (c *Child) Dump() (Dump, error) {
	e, err := c.command("dump", "dump", 120*time.Second)
	if err != nil {
		return Dump{}, err
	}
	return *e.Dump, nil
}

// Close closes the child's DataStore and waits for it to exit.
func (c *Child) Close() error {
	e, err := c.command("close", "closed", 60*time.Second)
	if err == nil && e.Err != "" {
		err = fmt.Errorf("chaos: child %s: Close: %s", c.Proc, e.Err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.Kill()
	}
	return err
}

// Kill SIGKILLs the child and waits until its history is settled.
func (c *Child) Kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}
