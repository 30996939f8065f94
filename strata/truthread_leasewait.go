package strata

import (
	"context"
	"errors"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
)

// Polling of a busy fill lease: the first retry soon (a fill is one L3
// point read and one Redis round trip away), then backing off.
const (
	leasePollFirst = time.Millisecond
	leasePollMax   = 16 * time.Millisecond
)

// waitForFill is called when another reader, of any instance, holds the
// fill lease of id. It retries GetOrLease until that reader's fill lands
// (a hit), the lease is gone (released after a not-found, or expired after
// its holder died: the lease is granted to this reader, which fills), or
// st.leaseWait or ctx's deadline runs out, when it returns ErrLeaseBusy and
// the caller reads PostgreSQL without filling. So a cold key costs one
// PostgreSQL read across the fleet rather than one per instance.
func (ds *DataStore) waitForFill(ctx context.Context, st *schemaState, id string) (data []byte, lease l2redis.Lease, err error) {
	if st.leaseWait <= 0 {
		ds.leaseWaited(ctx, st, time.Time{}, nil, l2redis.ErrLeaseBusy)
		return nil, l2redis.Lease{}, l2redis.ErrLeaseBusy
	}
	defer func(start time.Time) { ds.leaseWaited(ctx, st, start, data, err) }(time.Now())
	until := time.Now().Add(st.leaseWait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
		until = dl
	}
	pause := leasePollFirst
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		left := time.Until(until)
		if left <= 0 {
			return nil, l2redis.Lease{}, l2redis.ErrLeaseBusy
		}
		timer.Reset(min(pause, left))
		select {
		case <-ctx.Done():
			return nil, l2redis.Lease{}, l2redis.ErrLeaseBusy
		case <-timer.C:
		}
		pause = min(2*pause, leasePollMax)
		data, l, err := ds.l2.GetOrLease(ctx, st.key(id))
		if !errors.Is(err, l2redis.ErrLeaseBusy) {
			return data, l, err
		}
	}
}
