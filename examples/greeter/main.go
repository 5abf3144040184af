// Command greeter is an example portable service: a small HTTP server that
// systemd starts on the first connection to greeter.socket (socket
// activation: it takes the listening socket from PID 1, LISTEN_FDS), and a
// health check that greeter-check.timer runs every minute.
//
//	greeter serve [-listen ADDR]   serve HTTP on the socket systemd passes, or on ADDR
//	greeter check URL              GET URL; exit 1 unless it answers 200
//
// GET / answers one line naming the image's version and build (from its
// os-release), the process and its user; GET /healthz answers "ok".
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: greeter serve [-listen ADDR] | greeter check URL")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "greeter:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fl := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fl.String("listen", "", "listen on this address instead of the socket systemd passes")
	fl.Parse(args)
	ln, err := listener(*addr)
	if err != nil {
		return err
	}
	started := time.Now()
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		fmt.Fprintf(w, "hello from greeter version=%s build=%s pid=%d uid=%d request=%d up=%s\n",
			osRelease("VERSION_ID"), osRelease("BUILD_ID"), os.Getpid(), os.Getuid(), n,
			time.Since(started).Round(time.Millisecond))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("greeter version=%s build=%s serving on %s\n", osRelease("VERSION_ID"), osRelease("BUILD_ID"), ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}
}

// listener returns the socket systemd passed (sd_listen_fds(3): LISTEN_PID
// names us, LISTEN_FDS counts the descriptors from 3 on), or a new one on
// addr when we were started by hand.
func listener(addr string) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", addr)
	}
	pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID"))
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	// Children must not take the descriptors for theirs.
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid != os.Getpid() || n < 1 {
		return nil, errors.New("no socket from systemd (start greeter.socket, or pass -listen ADDR)")
	}
	if n > 1 {
		return nil, fmt.Errorf("systemd passed %d sockets, want 1", n)
	}
	const firstFD = 3
	f := os.NewFile(firstFD, "greeter.socket")
	defer f.Close() // FileListener dups it
	return net.FileListener(f)
}

func check(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: greeter check URL")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(args[0])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", args[0], resp.Status)
	}
	fmt.Printf("greeter-check: %s: %s: %s\n", args[0], resp.Status, strings.TrimSpace(string(body)))
	return nil
}

// osRelease reads one field of the image's own os-release.
func osRelease(key string) string {
	f, err := os.Open("/usr/lib/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
