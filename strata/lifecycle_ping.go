package strata

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Ping checks that every server the DataStore was configured with answers:
// Redis (every master, for a Cluster), PostgreSQL's primary, and the read
// replica of each registered schema that names one. NewDataStore contacts
// neither server, so call Ping at start-up to catch a wrong address or
// password at once, and from readiness probes.
//
// It returns nil when every tier answers; otherwise one error per failing
// tier, joined, each naming the tier and its address and wrapping
// ErrL2Unavailable (Redis) or ErrL3Unavailable (PostgreSQL) together with
// the cause (a refused connection, WRONGPASS, ...). The tiers are checked
// concurrently, so ctx bounds the whole call. With Config.ChangeFeed, it
// also explains what keeps the change feed from running (ErrChangeFeed:
// wal_level, the REPLICATION privilege, free slots, a slot that Migrate has
// not created yet). L1 is in-process and always
// answers.
func (ds *DataStore) Ping(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	if ds.life.closed.Load() {
		return ErrUnavailable
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	check := func(ping func(context.Context) error, wrap func(error) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ping(ctx); err != nil {
				mu.Lock()
				errs = append(errs, wrap(err))
				mu.Unlock()
			}
		}()
	}
	if ds.l2 != nil {
		check(ds.l2.Ping, func(err error) error {
			return fmt.Errorf("%w: redis at %s: %w", ErrL2Unavailable, ds.cfg.redisWhere(), err)
		})
	}
	if ds.l3 != nil {
		check(ds.l3.Ping, func(err error) error {
			return fmt.Errorf("%w: postgresql primary: %w", ErrL3Unavailable, err)
		})
	}
	for _, r := range ds.replicaPools() {
		check(r.pool.Ping, func(err error) error {
			return fmt.Errorf("%w: postgresql read replica of schema %s: %w", ErrL3Unavailable, r.schemas, err)
		})
	}
	wg.Wait()
	if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, ErrL3Unavailable) }) {
		if err := ds.pingFeed(ctx); err != nil { // see coherence_feed.go
			errs = append(errs, err)
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// replicaPing is one read replica to ping and the schemas that read it.
type replicaPing struct {
	pool    interface{ Ping(context.Context) error }
	schemas string
}

// replicaPools lists the distinct read replicas registered schemas use.
func (ds *DataStore) replicaPools() []replicaPing {
	byDSN := map[string][]string{}
	for _, st := range *ds.schemas.Load() {
		if st.replica {
			byDSN[st.L3.ReadReplica] = append(byDSN[st.L3.ReadReplica], fmt.Sprintf("%q", st.Name))
		}
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var out []replicaPing
	for dsn, names := range byDSN {
		db, ok := ds.replicas[dsn]
		if !ok || db.ReplicaPool() == nil {
			continue
		}
		sort.Strings(names)
		out = append(out, replicaPing{pool: db.ReplicaPool(), schemas: strings.Join(names, ", ")})
	}
	return out
}
