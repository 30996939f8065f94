package strata

import (
	"context"
	"fmt"
)

// runHook calls fn, turning a panic into an error wrapping ErrHookPanic.
func runHook(schema, hook string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s.%s: %v", ErrHookPanic, schema, hook, r)
		}
	}()
	return fn()
}

func (st *schemaState) beforeSet(ctx context.Context, v any) error {
	if st.Hooks.BeforeSet == nil {
		return nil
	}
	return runHook(st.Name, "BeforeSet", func() error { return st.Hooks.BeforeSet(ctx, v) })
}

func (st *schemaState) afterSet(ctx context.Context, v any) {
	if st.Hooks.AfterSet != nil {
		_ = runHook(st.Name, "AfterSet", func() error { st.Hooks.AfterSet(ctx, v); return nil })
	}
}

func (st *schemaState) beforeGet(ctx context.Context, id string) error {
	if st.Hooks.BeforeGet == nil {
		return nil
	}
	return runHook(st.Name, "BeforeGet", func() error { st.Hooks.BeforeGet(ctx, id); return nil })
}

func (st *schemaState) afterGet(ctx context.Context, v any) {
	if st.Hooks.AfterGet != nil {
		_ = runHook(st.Name, "AfterGet", func() error { st.Hooks.AfterGet(ctx, v); return nil })
	}
}
