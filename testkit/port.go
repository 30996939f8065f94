package testkit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a loopback TCP port nobody listens on now, below the
// kernel's ephemeral range: a server restarted in place must get its port
// back, and an ephemeral port may meanwhile have become the local end of
// some outgoing connection (a test's proxy may open thousands), which
// would keep the server from listening again. Another process may still
// take the port before the caller binds it: launchers retry on another
// port when a start fails.
func FreePort() (int, error) {
	low := ephemeralLow()
	for range 200 {
		port := minPort + rand.IntN(low-minPort)
		if free(port) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("testkit: no free loopback port between %d and %d in 200 tries", minPort, low)
}

// minPort is the lowest port the kit hands out: well-known and registered
// services mostly sit below it.
const minPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), 32768 where it cannot be read
// or leaves fewer than 1000 ports above 10000.
func ephemeralLow() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > minPort+1000 {
				low = n
			}
		}
	}
	return low
}

func free(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// clusterBusOffset is the distance between a Redis Cluster node's port and
// its bus port.
const clusterBusOffset = 10000

// FreeClusterPort returns a free loopback port p whose Redis Cluster bus
// port p+10000 is free too, both below the ephemeral range (see
// [FreePort]) when it leaves room for the pair, else p ≤ 55535.
func FreeClusterPort() (int, error) {
	lo, hi := minPort, ephemeralLow()-clusterBusOffset
	if hi-lo < 1000 { // an ephemeral range starting low: no room below it
		lo, hi = 20000, 65535-clusterBusOffset
	}
	for range 100 {
		port := lo + rand.IntN(hi-lo)
		if free(port) && free(port+clusterBusOffset) {
			return port, nil
		}
	}
	return 0, errors.New("testkit: no free port pair (p, p+10000) found in 100 tries")
}
