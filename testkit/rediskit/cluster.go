package rediskit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
)

// Cluster is a local Redis Cluster of three masters and no replicas, made
// of redis-server processes this package started.
type Cluster struct {
	Addrs []string
	nodes []*Server
	dir   string
}

// StartCluster starts three cluster-enabled redis-server processes on free
// loopback ports, joins them with `redis-cli --cluster create
// --cluster-replicas 0`, and waits until every node reports
// cluster_state:ok. The caller stops it.
func StartCluster() (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("rediskit: redis-cli not found (apt package redis-server): %w", err)
	}
	dir, err := os.MkdirTemp("", "strata-redis-cluster-")
	if err != nil {
		return nil, err
	}
	cl := &Cluster{dir: dir}
	for i := range 3 {
		n, err := Launch(dir, "", []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d-%s.conf", i, testkit.Suffix()),
			"--cluster-node-timeout", "5000",
		})
		if err != nil {
			cl.Stop()
			return nil, err
		}
		cl.nodes = append(cl.nodes, n)
		cl.Addrs = append(cl.Addrs, n.Addr)
	}
	args := append([]string{"--cluster", "create"}, cl.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		cl.Stop()
		return nil, fmt.Errorf("rediskit: redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := cl.waitOK(30 * time.Second); err != nil {
		cl.Stop()
		return nil, err
	}
	return cl, nil
}

// waitOK waits until every node reports cluster_state:ok and knows all
// three nodes.
func (cl *Cluster) waitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range cl.Addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := c.ClusterInfo(ctx).Result()
			cancel()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				return fmt.Errorf("rediskit: cluster node %s not ok after %v: %v %q", addr, timeout, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	return nil
}

// Stop stops the three processes and removes their directory.
func (cl *Cluster) Stop() {
	for _, n := range cl.nodes {
		n.Stop()
	}
	_ = os.RemoveAll(cl.dir)
}
