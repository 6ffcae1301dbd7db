package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// snapshot is what is read before and after a measurement window.
type snapshot struct {
	cpuMS float64 // server process user+system CPU
	redis redisStats
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on Linux).
const clockTicks = 100

// processCPU returns the user+system CPU time of pid in milliseconds, from /proc.
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat %q", s)
	}
	f := strings.Fields(s[i+1:])
	// After the command: state is field 3, utime field 14 and stime field 15 (1-based).
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat %q", s)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc stat %q", s)
	}
	return (ut + st) * 1000 / clockTicks, nil
}

// redisStats are the counters read from INFO.
type redisStats struct {
	Commands int64   // total_commands_processed
	CPUms    float64 // used_cpu_sys + used_cpu_user
}

type redisDelta = redisStats

func (a redisStats) sub(b redisStats) redisStats {
	return redisStats{Commands: a.Commands - b.Commands, CPUms: a.CPUms - b.CPUms}
}

// readRedis reads the counters; the INFO call itself is one command, subtracted.
func readRedis(rdb *redis.Client) redisStats {
	if rdb == nil {
		return redisStats{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "stats", "cpu").Result()
	if err != nil {
		return redisStats{}
	}
	var st redisStats
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "total_commands_processed":
			st.Commands, _ = strconv.ParseInt(v, 10, 64)
		case "used_cpu_sys", "used_cpu_user":
			f, _ := strconv.ParseFloat(v, 64)
			st.CPUms += f * 1000
		}
	}
	st.Commands-- // this INFO
	return st
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
