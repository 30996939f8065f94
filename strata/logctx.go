package strata

import (
	"context"
	"log/slog"
)

// contextLogger is the part of *slog.Logger that takes a context. A
// Config.Logger that has it (a *slog.Logger does) receives the context of
// the call a log line comes from, so a handler can add the trace and span
// ids the caller's context carries; one with only the four methods of
// Logger receives the line without it.
type contextLogger interface {
	DebugContext(ctx context.Context, msg string, args ...any)
	InfoContext(ctx context.Context, msg string, args ...any)
	WarnContext(ctx context.Context, msg string, args ...any)
	ErrorContext(ctx context.Context, msg string, args ...any)
}

// logCtx logs msg at level through l, with ctx when l takes one.
func logCtx(ctx context.Context, l Logger, level slog.Level, msg string, kv ...any) {
	if cl, ok := l.(contextLogger); ok && ctx != nil {
		switch {
		case level >= slog.LevelError:
			cl.ErrorContext(ctx, msg, kv...)
		case level >= slog.LevelWarn:
			cl.WarnContext(ctx, msg, kv...)
		case level >= slog.LevelInfo:
			cl.InfoContext(ctx, msg, kv...)
		default:
			cl.DebugContext(ctx, msg, kv...)
		}
		return
	}
	switch {
	case level >= slog.LevelError:
		l.Error(msg, kv...)
	case level >= slog.LevelWarn:
		l.Warn(msg, kv...)
	case level >= slog.LevelInfo:
		l.Info(msg, kv...)
	default:
		l.Debug(msg, kv...)
	}
}

// slogFor returns l as a *slog.Logger for the tier modules: l itself when it
// is one (so their context-taking log calls reach its handler with the
// call's context), an adapter otherwise.
func slogFor(l Logger) *slog.Logger {
	if sl, ok := l.(*slog.Logger); ok {
		return sl
	}
	return slog.New(loggerHandler{l})
}

// logWarn is logCtx at Warn.
func logWarn(ctx context.Context, l Logger, msg string, kv ...any) {
	logCtx(ctx, l, slog.LevelWarn, msg, kv...)
}
