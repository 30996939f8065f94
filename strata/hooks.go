package strata

import (
	"context"
	"fmt"
	"runtime/debug"
)

// runHook calls fn, turning a panic into an error wrapping ErrHookPanic. The
// panic is also logged at Error with its stack, which the error cannot
// carry. outcome, appended to the message, tells the caller what had
// already happened (for hooks that run after the operation).
func (st *schemaState) runHook(hook, outcome string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s.%s: %v%s", ErrHookPanic, st.Name, hook, r, outcome)
			st.log.Error("strata: hook panicked", "schema", st.Name, "hook", hook, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	return fn()
}

func (st *schemaState) beforeSet(ctx context.Context, v any) error {
	if st.Hooks.BeforeSet == nil {
		return nil
	}
	return st.runHook("BeforeSet", "; nothing was written", func() error { return st.Hooks.BeforeSet(ctx, v) })
}

// afterSet runs AfterSet; its error (a panic) is reported to the caller of
// a write that has been stored.
func (st *schemaState) afterSet(ctx context.Context, v any) error {
	if st.Hooks.AfterSet == nil {
		return nil
	}
	return st.runHook("AfterSet", "; the write was stored", func() error { st.Hooks.AfterSet(ctx, v); return nil })
}

func (st *schemaState) beforeGet(ctx context.Context, id string) error {
	if st.Hooks.BeforeGet == nil {
		return nil
	}
	return st.runHook("BeforeGet", "; nothing was read", func() error { st.Hooks.BeforeGet(ctx, id); return nil })
}

// afterGet runs AfterGet; its error (a panic) is reported to the caller
// along with the value read.
func (st *schemaState) afterGet(ctx context.Context, v any) error {
	if st.Hooks.AfterGet == nil {
		return nil
	}
	return st.runHook("AfterGet", "; the value was read", func() error { st.Hooks.AfterGet(ctx, v); return nil })
}

// onWriteError runs OnWriteError on the flusher's goroutine: a panic is
// recovered and logged (there is no caller to return it to).
func (st *schemaState) onWriteError(id string, err error) {
	if st.Hooks.OnWriteError == nil {
		return
	}
	_ = st.runHook("OnWriteError", "", func() error { st.Hooks.OnWriteError(context.Background(), id, err); return nil })
}
