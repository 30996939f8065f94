package testenv

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProxyForwardsACancelRequestOnlyAfterTheHeldStatementIsAnswered: a
// client's UPDATE is held by the proxy, the client gives up at its
// deadline and sends a cancel request (a connection opened during the
// hold), and on Release the server is slow to finish the statement (here a
// row lock another transaction holds for 700 ms, as a loaded machine's
// CPU can make it). The statement must still run to its commit: the cancel
// is forwarded only once the server has answered the held bytes. With a
// fixed 200 ms pause instead, the cancel reached the server while the
// UPDATE was still running and cancelled it, which is how
// TestChangeFeedConvergesAfterAnAmbiguousWriteByAWriterThatDied failed
// once in 100 loaded runs ("the held statement was not applied after the
// release").
func TestProxyForwardsACancelRequestOnlyAfterTheHeldStatementIsAnswered(t *testing.T) {
	dsn := PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	table := pgx.Identifier{"proxy_" + Suffix()}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE TABLE "+table+" (id text PRIMARY KEY, v int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP TABLE "+table) })
	if _, err := admin.Exec(ctx, "INSERT INTO "+table+" VALUES ('a', 1)"); err != nil {
		t.Fatal(err)
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := StartProxy(t, u.Host)
	u.Host = proxy.Addr
	client, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())

	// Another transaction holds the row, so the UPDATE, once released,
	// runs for as long as it does.
	locker, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = locker.Rollback(context.Background()) }()
	if _, err := locker.Exec(ctx, "SELECT v FROM "+table+" WHERE id = 'a' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}

	held := proxy.HoldWhen(func(b []byte) bool { return len(b) > 0 && b[0] == 'Q' })
	short, stop := context.WithTimeout(ctx, time.Second)
	_, err = client.Exec(short, "UPDATE "+table+" SET v = 2 WHERE id = 'a'", pgx.QueryExecModeSimpleProtocol)
	stop()
	if err == nil {
		t.Fatal("the UPDATE succeeded while the proxy held it")
	}
	select {
	case <-held:
	default:
		t.Fatalf("the UPDATE never reached the proxy's hold (%v)", err)
	}
	// The client's cancel request comes on a connection of its own.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		proxy.mu.Lock()
		late := proxy.next > proxy.holdFrom
		proxy.mu.Unlock()
		if late {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client sent no cancel request within 20s of giving up")
		}
	}

	unlocked := make(chan error, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		unlocked <- locker.Rollback(context.Background())
	}()
	start := time.Now()
	proxy.Release()
	t.Logf("Release returned after %v", time.Since(start).Round(time.Millisecond))
	if err := <-unlocked; err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var v int
		if err := admin.QueryRow(ctx, "SELECT v FROM "+table+" WHERE id = 'a'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the held UPDATE was not applied 10s after the release (v = %d): the client's cancel request reached the server while the UPDATE ran", v)
		}
	}
}
