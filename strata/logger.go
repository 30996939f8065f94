package strata

// Logger receives Strata's log lines as a message plus alternating keys and
// values. A *slog.Logger satisfies it as it is, and is used as slog: lines
// logged during a call reach its handler with the call's context (through
// InfoContext, WarnContext, ...), so a handler that reads trace and span ids
// from the context adds them, and the tier modules log through it directly.
// Any Logger that also has those four ...Context methods of *slog.Logger
// gets the context the same way.
type Logger interface {
	Info(msg string, keysAndValues ...any)
	Warn(msg string, keysAndValues ...any)
	Error(msg string, keysAndValues ...any)
	Debug(msg string, keysAndValues ...any)
}

// nopLogger is the default Logger.
type nopLogger struct{}

func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
func (nopLogger) Debug(string, ...any) {}
