// A Go program as people write them (issue 17): goroutines and channels, timers and tickers,
// a goroutine spinning without a call preempted by the runtime's SIGURG, os/exec of a granted
// static program with its output through a pipe, and a signal.Notify handler; built with
// CGO_ENABLED=0 by Debian's golang-go, run without any GODEBUG setting.
// Prints one line per check, then "all checks passed".
//
//	gotest PROGRAM ARG...   PROGRAM ARG... is what os/exec runs (its output must be "hello from isovm")
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var failures int

func check(name string, ok bool, format string, args ...interface{}) {
	if ok {
		fmt.Printf("ok %s\n", name)
		return
	}
	failures++
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
}

// Eight goroutines sum their shares; the results come back over a channel.
func checkGoroutines() {
	results := make(chan int, 8)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			sum := 0
			for i := g * 100000; i < (g+1)*100000; i++ {
				sum += i % 7
			}
			results <- sum
		}(g)
	}
	wg.Wait()
	close(results)
	total := 0
	for s := range results {
		total += s
	}
	want := 0
	for i := 0; i < 800000; i++ {
		want += i % 7
	}
	check("goroutines and channels: 8 workers", total == want, "total %d, want %d", total, want)

	// an unbuffered ping-pong: every send meets its receive
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for i := 0; i < 1000; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	check("unbuffered channels: 1000 round trips", v == 1000, "v %d", v)
}

func checkTimers() {
	start := time.Now()
	<-time.After(50 * time.Millisecond)
	d := time.Since(start)
	check("time.After 50ms", d >= 50*time.Millisecond && d < 5*time.Second, "took %v", d)

	tk := time.NewTicker(20 * time.Millisecond)
	n := 0
	deadline := time.After(5 * time.Second)
loop:
	for n < 5 {
		select {
		case <-tk.C:
			n++
		case <-deadline:
			break loop
		}
	}
	tk.Stop()
	check("time.Ticker: 5 ticks", n == 5, "%d ticks in 5 s", n)

	fired := make(chan bool, 1)
	t := time.AfterFunc(30*time.Millisecond, func() { fired <- true })
	select {
	case <-fired:
		check("time.AfterFunc", true, "")
	case <-time.After(5 * time.Second):
		check("time.AfterFunc", false, "never ran")
	}
	t.Stop()
	stopped := time.NewTimer(time.Hour)
	check("time.Timer.Stop", stopped.Stop(), "Stop said it had fired")
}

// With one P, the main goroutine runs again only if the runtime preempts the spinner, which
// calls nothing: asynchronous preemption, by SIGURG to its thread.
func checkPreemption() {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop atomic.Bool
	var spins uint64
	done := make(chan bool)
	go func() {
		for !stop.Load() {
			spins++
		}
		done <- true
	}()
	runtime.Gosched() // the spinner runs now
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	<-done
	check("a spinning goroutine preempted (SIGURG)", time.Since(start) < 10*time.Second,
		"main came back after %v", time.Since(start))
}

func checkExec(argv []string) {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	check("os/exec: output of a granted program", err == nil && strings.TrimSpace(string(out)) == "hello from isovm",
		"err %v, output %q", err, out)
	err = exec.Command(argv[0]+".missing").Run()
	check("os/exec: a program outside the grants", err != nil && strings.Contains(err.Error(), "no such file"),
		"err %v", err)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		check("os/exec: Start and Wait", false, "start: %v", err)
		return
	}
	err = cmd.Wait()
	check("os/exec: Start and Wait, exit 0", err == nil && cmd.ProcessState.ExitCode() == 0,
		"err %v", err)
}

func checkNotify() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGTERM)
	sendAndReceive := func(name string, sig syscall.Signal) {
		syscall.Kill(os.Getpid(), sig)
		select {
		case s := <-ch:
			check(name, s == sig, "got %v", s)
		case <-time.After(5 * time.Second):
			check(name, false, "nothing in 5 s")
		}
	}
	sendAndReceive("signal.Notify: SIGUSR1 to itself", syscall.SIGUSR1)
	sendAndReceive("signal.Notify: SIGTERM handled, not fatal", syscall.SIGTERM)
	signal.Stop(ch)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gotest PROGRAM ARG...")
		os.Exit(2)
	}
	checkGoroutines()
	checkTimers()
	checkPreemption()
	checkExec(os.Args[1:])
	checkNotify()
	if failures > 0 {
		fmt.Printf("%d check(s) failed\n", failures)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}
