package engineio

import (
	"log/slog"
	"os"
)

// defaultLogger is the logger of a server whose options name none: errors only, as text on
// standard error.
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
