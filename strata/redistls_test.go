package strata_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// strataACL is the ACL rule the README documents for Strata's Redis user
// (with the default InvalidationChannel), minus the user name and password;
// TestRedisTLSAndLeastPrivilegeACL runs every Redis-using feature as a user
// holding exactly this, and TestREADMEDocumentsTheRedisACL checks that the
// README shows it verbatim.
const strataACL = "resetkeys ~strata:* resetchannels &strata:invalidate -@all " +
	"+ping +get +getrange +mget +set +exists +incr +incrby +expire +del +unlink +scan " +
	"+eval +evalsha +publish +subscribe " +
	"+xadd +xreadgroup +xgroup|create +xack +xdel +xautoclaim +hset +hget +hmget +hdel"

// TestREADMEDocumentsTheRedisACL: the ACL in the README is the one the TLS
// and ACL test proves sufficient.
func TestREADMEDocumentsTheRedisACL(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strataACL) {
		t.Errorf("README.md does not show the tested ACL rule:\n%s", strataACL)
	}
}

// TestRedisTLSAndLeastPrivilegeACL: against a redis-server that accepts
// only TLS with client certificates (a CA and certificates made here), as a
// user holding only strataACL, every feature that uses Redis works — reads
// with leases, GetMany, writes and cross-instance invalidation, Delete,
// Exists, SearchCached, Invalidate/InvalidateAll, write-behind, a
// Redis-only schema, Ping — and Redis logged no ACL denial.
func TestRedisTLSAndLeastPrivilegeACL(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	srv := startRedisTLS(t, "user strata on >s3cret-acl "+strataACL)
	admin := redis.NewClient(&redis.Options{Addr: srv.addr, TLSConfig: srv.clientTLS()})
	defer admin.Close()

	sfx := testenv.Suffix()
	tiered, wb, sess := "tls_"+sfx, "tlswb_"+sfx, "tlssess_"+sfx
	for _, name := range []string{tiered, wb} {
		pgTable(t, dsn, name)
	}
	cfg := strata.Config{
		PostgresDSN:      dsn,
		RedisURL:         "rediss://strata:s3cret-acl@" + srv.addr + "/0",
		RedisTLS:         srv.clientTLS(),
		NegativeCacheTTL: -1,
		// the write-behind schema journals its writes in a stream
		WriteBehindJournal: true, WriteBehindJournalClaimIdle: 100 * time.Millisecond,
	}
	open := func() *strata.DataStore {
		ds, err := strata.NewDataStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ds.Close() })
		for _, s := range []strata.Schema{
			{Name: tiered, Model: &Account{}},
			{Name: wb, Model: &Account{}, WriteMode: strata.WriteBehind},
			{Name: sess, Model: &Session{}, L3: strata.PostgresPolicy{Disabled: true}},
		} {
			if err := ds.Register(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := ds.WaitSubscribed(ctx); err != nil {
			t.Fatalf("invalidation bus over TLS as the ACL user: %v", err)
		}
		return ds
	}
	a, b := open(), open()
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("Ping", a.Ping(ctx))
	step("Migrate", a.Migrate(ctx))
	step("Set", a.Set(ctx, tiered, "a1", &Account{ID: "a1", Username: "ada", Score: 1}))
	step("SetMany", a.SetMany(ctx, tiered, map[string]any{"a2": &Account{ID: "a2", Username: "bob"}, "a3": &Account{ID: "a3", Username: "cy"}}))
	got, err := strata.GetTyped[Account](ctx, b, tiered, "a1") // L2 miss: lease, PostgreSQL, fill
	step("Get", err)
	if got.Score != 1 {
		t.Fatalf("Get = %+v", got)
	}
	many, err := strata.GetManyTyped[Account](ctx, b, tiered, []string{"a1", "a2", "a3", "none"})
	step("GetMany", err)
	if len(many) != 3 {
		t.Fatalf("GetMany = %v", many)
	}
	_, err = strata.GetTyped[Account](ctx, b, tiered, "a2") // now an L2 or L1 hit
	step("Get again", err)
	step("Set (update)", a.Set(ctx, tiered, "a1", &Account{ID: "a1", Username: "ada", Score: 2}))
	waitFor(t, "the other instance to read the update", func() bool {
		got, err := strata.GetTyped[Account](ctx, b, tiered, "a1")
		return err == nil && got.Score == 2
	})
	q := strata.Q().Where("score >= $1", 0).OrderBy("id").Build()
	var rows []Account
	step("SearchCached (miss)", b.SearchCached(ctx, tiered, &q, &rows))
	step("SearchCached (hit)", b.SearchCached(ctx, tiered, &q, &rows))
	if len(rows) != 3 {
		t.Fatalf("SearchCached = %v", rows)
	}
	ok, err := b.Exists(ctx, tiered, "a3")
	step("Exists", err)
	if !ok {
		t.Error("Exists(a3) = false")
	}
	step("Delete", a.Delete(ctx, tiered, "a3"))
	step("Invalidate", a.Invalidate(ctx, tiered, "a2"))
	step("InvalidateAll", a.InvalidateAll(ctx, tiered))
	step("WarmCache", a.WarmCache(ctx, tiered, 10))
	step("write-behind Set", a.Set(ctx, wb, "w1", &Account{ID: "w1", Username: "wb"}))
	step("FlushDirty", a.FlushDirty(ctx))
	step("write-behind Set to delete", a.Set(ctx, wb, "w2", &Account{ID: "w2", Username: "gone"}))
	step("write-behind Delete", a.Delete(ctx, wb, "w2"))
	step("FlushDirty again", a.FlushDirty(ctx))
	// The journal's claimer has been sending XAUTOCLAIM every 50 ms meanwhile.
	var n int
	step("count write-behind rows", pgxQueryRow(ctx, dsn, "SELECT count(*) FROM "+pgx.Identifier{wb}.Sanitize(), &n))
	if n != 1 {
		t.Errorf("write-behind rows in PostgreSQL = %d, want 1", n)
	}
	step("Redis-only Set", a.Set(ctx, sess, "s1", &Session{ID: "s1", UserID: "u1"}))
	if s, err := strata.GetTyped[Session](ctx, b, sess, "s1"); err != nil || s.UserID != "u1" {
		t.Fatalf("Redis-only Get = %+v, %v", s, err)
	}
	step("Redis-only Delete", a.Delete(ctx, sess, "s1"))

	denials, err := admin.Do(ctx, "ACL", "LOG").Slice()
	step("ACL LOG", err)
	for _, d := range denials {
		t.Errorf("Redis denied the strata user: %v", d)
	}
	// The ACL is least privilege: the user cannot touch keys outside
	// strata:* or run commands Strata does not need.
	user := redis.NewClient(&redis.Options{Addr: srv.addr, Username: "strata", Password: "s3cret-acl", TLSConfig: srv.clientTLS()})
	defer user.Close()
	if err := user.Set(ctx, "other:key", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("SET outside strata:* = %v; want NOPERM", err)
	}
	if err := user.FlushAll(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("FLUSHALL = %v; want NOPERM", err)
	}
	// And TLS is required: a client without a certificate is refused.
	plain := redis.NewClient(&redis.Options{Addr: srv.addr, Username: "strata", Password: "s3cret-acl", TLSConfig: &tls.Config{RootCAs: srv.pool}, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Error("a TLS client without a certificate was accepted")
	}
}

// TestRedisTLSRefusedCertificateIsAPingError: a server whose certificate
// the client does not trust makes Ping fail, naming Redis.
func TestRedisTLSUntrustedServerIsAPingError(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	srv := startRedisTLS(t, "")
	tc := srv.clientTLS()
	tc.RootCAs = x509.NewCertPool() // trusts nothing
	ds, err := strata.NewDataStore(strata.Config{RedisAddr: srv.addr, RedisTLS: tc, L2Pool: strata.L2PoolConfig{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	err = ds.Ping(ctx)
	var uae x509.UnknownAuthorityError
	if !errors.Is(err, strata.ErrL2Unavailable) || !errors.As(err, &uae) {
		t.Errorf("Ping = %v; want ErrL2Unavailable caused by an unknown certificate authority", err)
	}
}

func pgxQueryRow(ctx context.Context, dsn, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// tlsRedis is a redis-server of the test's own that speaks only TLS and
// requires client certificates, all signed by a CA made for the test.
type tlsRedis struct {
	addr   string
	pool   *x509.CertPool
	client tls.Certificate
}

func (r *tlsRedis) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: r.pool, Certificates: []tls.Certificate{r.client}, MinVersion: tls.VersionTLS12}
}

// startRedisTLS starts a TLS-only redis-server; acl, when not empty, is a
// config line ("user NAME ...") added to its configuration.
func startRedisTLS(t *testing.T, acl string) *tlsRedis {
	t.Helper()
	testenv.RedisAddr(t) // gated like the shared server
	dir := t.TempDir()
	caKey, caCert, caDER := newCA(t)
	write := func(name string, blocks ...*pem.Block) string {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.crt", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	srvKey, srvDER := newLeaf(t, caKey, caCert, "redis-server", x509.ExtKeyUsageServerAuth)
	srvKeyDER, _ := x509.MarshalECPrivateKey(srvKey)
	crt := write("server.crt", &pem.Block{Type: "CERTIFICATE", Bytes: srvDER})
	key := write("server.key", &pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER})
	cliKey, cliDER := newLeaf(t, caKey, caCert, "strata-test-client", x509.ExtKeyUsageClientAuth)

	port := freeLoopbackPort(t)
	conf := strings.Join([]string{
		"port 0", "tls-port " + port, "bind 127.0.0.1",
		"tls-cert-file " + crt, "tls-key-file " + key, "tls-ca-cert-file " + ca, "tls-auth-clients yes",
		"save \"\"", "appendonly no", "dir " + dir, acl,
	}, "\n") + "\n"
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	r := &tlsRedis{addr: net.JoinHostPort("127.0.0.1", port), pool: pool,
		client: tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}}
	rediskit.StartWith(t, &redis.Options{Addr: r.addr, TLSConfig: r.clientTLS()}, confPath)
	return r
}

func newCA(t *testing.T) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "strata test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

// newLeaf issues a certificate for 127.0.0.1 signed by the CA.
func newLeaf(t *testing.T, caKey *ecdsa.PrivateKey, ca *x509.Certificate, cn string, usage x509.ExtKeyUsage) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

// TestRedisACLCoversTheChangeFeed: the change feed's consumer, which
// deletes keys and publishes invalidations for writes made outside Strata,
// needs nothing beyond strataACL either.
func TestRedisACLCoversTheChangeFeed(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	srv := startRedisTLS(t, "user strata on >s3cret-acl "+strataACL)
	admin := redis.NewClient(&redis.Options{Addr: srv.addr, TLSConfig: srv.clientTLS()})
	defer admin.Close()
	name := "tlsfeed_" + testenv.Suffix()
	conn := pgTable(t, dsn, name)
	cfg := strata.Config{
		PostgresDSN: dsn, RedisURL: "rediss://strata:s3cret-acl@" + srv.addr, RedisTLS: srv.clientTLS(),
		ChangeFeed: true, ChangeFeedSlot: testenv.FeedSlot(t), L3Pool: strata.L3PoolConfig{MaxConns: 4, MinConns: 1},
	}
	a, b := openStore(t, cfg, strata.Schema{Name: name, Model: &feedRec{}}), openStore(t, cfg, strata.Schema{Name: name, Model: &feedRec{}})
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	waitConsumer(t, a, b)
	if _, err := conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{name}.Sanitize()+" VALUES ('r1', 1)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both instances to read r1", func() bool { return read(t, a, name, "r1") == 1 && read(t, b, name, "r1") == 1 })
	if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{name}.Sanitize()+" SET v = 2 WHERE id = 'r1'"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the feed to invalidate r1 on both instances", func() bool { return read(t, a, name, "r1") == 2 && read(t, b, name, "r1") == 2 })
	denials, err := admin.Do(ctx, "ACL", "LOG").Slice()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range denials {
		t.Errorf("Redis denied the strata user: %v", d)
	}
}
