package l2redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

func TestGenerations(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		// Generation keys live under the test's prefix so they are removed.
		ns := p + "players"
		s2, err := l2redis.New(s.Client(), &l2redis.Options{GenerationPrefix: p + "gen:", ResultPrefix: p + "q:"})
		if err != nil {
			t.Fatal(err)
		}
		s = s2
		ctx := testCtx(t)

		_, gen, err := s.GetResult(ctx, ns, "level>3")
		if !errors.Is(err, l2redis.ErrNotFound) || gen == 0 {
			t.Fatalf("GetResult on a fresh namespace = gen %d, %v; want a generation and ErrNotFound", gen, err)
		}
		if err := s.SetResult(ctx, ns, gen, "level>3", []byte("rows@1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		got, gen2, err := s.GetResult(ctx, ns, "level>3")
		if err != nil || string(got) != "rows@1" || gen2 != gen {
			t.Fatalf("GetResult = %q, %d, %v; want rows@1, %d", got, gen2, err, gen)
		}

		// A reader reads the generation, a writer bumps it, the reader
		// stores what it queried: the late result is unreachable.
		_, genBefore, _ := s.GetResult(ctx, ns, "level>5")
		bumped, err := s.BumpGeneration(ctx, ns)
		if err != nil || bumped != gen+1 {
			t.Fatalf("BumpGeneration = %d, %v; want %d", bumped, err, gen+1)
		}
		if err := s.SetResult(ctx, ns, genBefore, "level>5", []byte("stale"), time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"level>3", "level>5"} {
			if _, g, err := s.GetResult(ctx, ns, q); !errors.Is(err, l2redis.ErrNotFound) || g != bumped {
				t.Errorf("GetResult(%s) after bump = gen %d, %v; want gen %d, ErrNotFound", q, g, err, bumped)
			}
		}
		// Other namespaces are untouched.
		other, err := s.Generation(ctx, p+"guilds")
		if err != nil || other == bumped {
			t.Errorf("Generation(other) = %d, %v", other, err)
		}

		// A lost counter restarts above every generation handed out.
		redistest.DeletePrefix(s.Client(), p+"gen:")
		again, err := s.Generation(ctx, ns)
		if err != nil || again <= bumped {
			t.Errorf("Generation after losing the counter = %d, %v; want > %d", again, err, bumped)
		}
	})
}

func TestGenerationBadInput(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := testCtx(t)
	if _, err := s.Generation(ctx, ""); !errors.Is(err, l2redis.ErrEmptyKey) {
		t.Errorf("Generation(\"\") = %v", err)
	}
	if _, _, err := s.GetResult(ctx, "ns", ""); !errors.Is(err, l2redis.ErrEmptyKey) {
		t.Errorf("GetResult(query \"\") = %v", err)
	}
}
