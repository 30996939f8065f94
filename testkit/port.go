package testkit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// FreePort returns a loopback TCP port nobody listens on now. Another
// process may take it before the caller binds it: launchers retry on
// another port when a start fails.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testkit: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// maxClusterPort keeps a Redis Cluster node's bus port (port + 10000)
// within range.
const maxClusterPort = 55535

// FreeClusterPort returns a free loopback port p ≤ 55535 whose Redis
// Cluster bus port p+10000 is free too.
func FreeClusterPort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(maxClusterPort-20000)
		l1, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = l1.Close()
		if err != nil {
			continue
		}
		_ = l2.Close()
		return port, nil
	}
	return 0, errors.New("testkit: no free port pair (p, p+10000) found in 100 tries")
}
