package generator

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/internal/text"
)

// Syslog levels, as systemd uses them.
const (
	LevelErr     = 3
	LevelWarning = 4
	LevelNotice  = 5
	LevelInfo    = 6
	LevelDebug   = 7
)

// Logger writes the generator's lines to stderr and, when systemd runs us
// and /dev/kmsg exists, to the kernel log (PID 1 sends a system
// generator's stderr to /dev/null).
type Logger struct {
	Level  int
	Stderr io.Writer
	Kmsg   io.Writer // nil when not logging to the kernel
	ident  string
}

// NewLogger sets up logging from the environment: SYSTEMD_LOG_LEVEL, and
// /dev/kmsg when SYSTEMD_EXEC_PID is our pid.
func NewLogger() *Logger {
	l := &Logger{Level: LevelInfo, Stderr: os.Stderr, ident: fmt.Sprintf("portable-generator[%d]: ", os.Getpid())}
	if v := os.Getenv("SYSTEMD_LOG_LEVEL"); v != "" {
		if n, ok := parseLevel(v); ok {
			l.Level = n
		}
	}
	if os.Getenv("SYSTEMD_EXEC_PID") == strconv.Itoa(os.Getpid()) {
		if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
			l.Kmsg = f
		}
	}
	return l
}

func parseLevel(v string) (int, bool) {
	names := []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	for i, n := range names {
		if strings.EqualFold(v, n) {
			return i, true
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 7 {
		return n, true
	}
	return 0, false
}

// Logf writes one line at a level.
func (l *Logger) Logf(level int, format string, args ...any) {
	if l == nil || level > l.Level {
		return
	}
	msg := fmt.Sprintf(format, args...)
	// One record per line: an image can put newlines into what we print
	// (a file name), never into our log's structure, and no terminal
	// control sequence reaches an admin's dmesg.
	msg = text.Escape(msg)
	if l.Stderr != nil {
		fmt.Fprintf(l.Stderr, "%s%s\n", l.ident, msg)
	}
	if l.Kmsg != nil {
		fmt.Fprintf(l.Kmsg, "<%d>%s%s\n", level, l.ident, msg)
	}
}
