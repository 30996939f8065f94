package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// cpuMeter reads the CPU time of the three processes a phase costs: this
// client, the Redis server and the PostgreSQL server (the postmaster and
// every backend, live or exited). The servers are measured only when they
// run on this machine (their /proc entries are readable); otherwise their
// figures stay 0.
type cpuMeter struct {
	redisPID, pgPID int
	tick            time.Duration
}

// cpuSample is one reading of the three processes' CPU time.
type cpuSample struct{ client, redis, pg time.Duration }

// phaseCPU is a phase's CPU time per operation of each process.
type phaseCPU struct {
	ClientUS float64 `json:"client_us"`
	RedisUS  float64 `json:"redis_us"`
	PgUS     float64 `json:"postgres_us"`
}

func (c phaseCPU) String() string {
	return fmt.Sprintf("CPU per op: client %.0f µs, redis %.0f µs, postgres %.0f µs, total %.0f µs", c.ClientUS, c.RedisUS, c.PgUS, c.ClientUS+c.RedisUS+c.PgUS)
}

func newCPUMeter(env benchEnv) *cpuMeter {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := &cpuMeter{tick: 10 * time.Millisecond} // USER_HZ is 100 on Linux
	rdb := redis.NewClient(&redis.Options{Addr: env.redis})
	if info, err := rdb.Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "process_id:"); ok {
				m.redisPID, _ = strconv.Atoi(v)
			}
		}
	}
	_ = rdb.Close()
	if conn, err := pgx.Connect(ctx, env.dsn); err == nil {
		var backend int
		if conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend) == nil {
			if st, ok := procStat(backend); ok {
				m.pgPID = st.ppid
			}
		}
		_ = conn.Close(ctx)
	}
	return m
}

// sample reads the three CPU times now.
func (m *cpuMeter) sample() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if st, ok := procStat(m.redisPID); ok && m.redisPID > 0 {
		s.redis = time.Duration(st.self) * m.tick
	}
	if st, ok := procStat(m.pgPID); ok && m.pgPID > 0 {
		ticks := st.self + st.children
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if c, ok := procStat(pid); ok && c.ppid == m.pgPID {
				ticks += c.self
			}
		}
		s.pg = time.Duration(ticks) * m.tick
	}
	return s
}

// perOp is the CPU spent between s0 and s1 per operation.
func perOp(s0, s1 cpuSample, ops int64) phaseCPU {
	if ops <= 0 {
		return phaseCPU{}
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(ops) }
	return phaseCPU{ClientUS: us(s1.client - s0.client), RedisUS: us(s1.redis - s0.redis), PgUS: us(s1.pg - s0.pg)}
}

type stat struct {
	ppid           int
	self, children int64 // utime+stime, cutime+cstime, in ticks
}

// procStat reads /proc/pid/stat.
func procStat(pid int) (stat, bool) {
	if pid <= 0 {
		return stat{}, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return stat{}, false
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	return stat{ppid: int(n(4)), self: n(14) + n(15), children: n(16) + n(17)}, true
}
