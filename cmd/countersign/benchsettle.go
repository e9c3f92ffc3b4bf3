package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// settle waits until the process tree rooted at pid (Countersign and, under `dev`,
// its private Postgres) has used less than maxCPU of one core for two consecutive
// seconds, or until limit passes. A run leaves work behind it (claim checks paced at
// Stripe's read rate, search indexing, audit sealing, job dispatch) that takes minutes
// to drain after 10 s at 1,000/s; a run started on top of it measures the previous
// run as much as its own. It returns how long it waited and whether the tree went
// quiet. Without a pid (or off Linux) it only sleeps a second.
func settle(ctx context.Context, pid int, maxCPU float64, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	prev, ok := treeCPU(pid)
	if pid == 0 || !ok {
		time.Sleep(time.Second)
		return time.Since(start), false
	}
	quiet := 0
	for time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-time.After(time.Second):
		}
		cur, ok := treeCPU(pid)
		if !ok {
			return time.Since(start), false
		}
		if float64(cur-prev)/clockTicks < maxCPU {
			quiet++
		} else {
			quiet = 0
		}
		prev = cur
		if quiet >= 2 {
			return time.Since(start), true
		}
	}
	return time.Since(start), false
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTicks = 100

// treeCPU is the user+system time, in clock ticks, of pid and every process
// descending from it.
func treeCPU(pid int) (int64, bool) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	parent := map[int]int{}
	times := map[int]int64{}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces) start at ") ".
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		pp, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parent[p], times[p] = pp, ut+st
	}
	if _, ok := times[pid]; !ok {
		return 0, false
	}
	var sum int64
	for p, t := range times {
		for q := p; q != 0; q = parent[q] {
			if q == pid {
				sum += t
				break
			}
		}
	}
	return sum, true
}

func settleNote(d time.Duration, quiet bool) string {
	if quiet {
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
	return fmt.Sprintf(">%.0fs", d.Seconds())
}
