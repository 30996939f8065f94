package harness

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
	"github.com/redis/go-redis/v9"
)

var (
	pgContainer, redisContainer container

	dockerMu  sync.Mutex
	pool      *dockertest.Pool
	resources []*dockertest.Resource
)

// dockerPool connects to the Docker engine and checks that it answers.
func dockerPool() (*dockertest.Pool, error) {
	dockerMu.Lock()
	defer dockerMu.Unlock()
	if pool != nil {
		return pool, nil
	}
	p, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("no Docker client: %w", err)
	}
	if err := p.Client.Ping(); err != nil {
		return nil, fmt.Errorf("no Docker engine answers: %w", err)
	}
	p.MaxWait = 90 * time.Second
	pool = p
	return p, nil
}

func run(opts *dockertest.RunOptions) (*dockertest.Resource, *dockertest.Pool, error) {
	p, err := dockerPool()
	if err != nil {
		return nil, nil, err
	}
	res, err := p.RunWithOptions(opts, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start %s:%s: %w", opts.Repository, opts.Tag, err)
	}
	_ = res.Expire(600) // a crashed test binary must not leave the container behind for long
	dockerMu.Lock()
	resources = append(resources, res)
	dockerMu.Unlock()
	return res, p, nil
}

func startPostgres() (string, error) {
	res, p, err := run(&dockertest.RunOptions{
		Repository: "postgres", Tag: "15-alpine",
		Env: []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=strata"},
	})
	if err != nil {
		return "", err
	}
	dsn := fmt.Sprintf("postgres://postgres@%s/strata?sslmode=disable", net.JoinHostPort("127.0.0.1", res.GetPort("5432/tcp")))
	err = p.Retry(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.Ping(ctx)
	})
	if err != nil {
		return "", fmt.Errorf("postgres container did not answer: %w", err)
	}
	return dsn, nil
}

func startRedis() (string, error) {
	res, p, err := run(&dockertest.RunOptions{
		Repository: "redis", Tag: "7-alpine",
		Cmd: []string{"redis-server", "--save", "", "--appendonly", "no"},
	})
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", res.GetPort("6379/tcp"))
	err = p.Retry(func() error {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	})
	if err != nil {
		return "", fmt.Errorf("redis container did not answer: %w", err)
	}
	return addr, nil
}

// purgeContainers removes every container this process started.
func purgeContainers() {
	dockerMu.Lock()
	defer dockerMu.Unlock()
	for _, r := range resources {
		_ = pool.Purge(r)
	}
	resources = nil
}
