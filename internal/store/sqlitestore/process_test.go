package sqlitestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// These tests re-execute the test binary as a child process (the
// os/exec "helper process" pattern), because what they check is exactly
// what threads in one process cannot show: file locking and durability
// between processes.

const (
	envHelper = "SQLITESTORE_TEST_HELPER" // which helper to run
	envPath   = "SQLITESTORE_TEST_PATH"   // the store file
	envArg    = "SQLITESTORE_TEST_ARG"    // the helper's argument
	counterID = "AC00000000000000000000000000000c01"
)

// TestMain runs a helper instead of the tests when a test re-executes the
// binary with envHelper set (a test that skipped in every normal run would
// count as a skip).
func TestMain(m *testing.M) {
	if mode := os.Getenv(envHelper); mode != "" {
		helperProcess(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperProcess is the child's work: open the store, run one helper.
func helperProcess(mode string) {
	s, err := Open(os.Getenv(envPath), Options{})
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(3)
	}
	switch mode {
	case "race":
		helperRace(s, os.Getenv(envArg))
	case "crash":
		helperCrash(s, os.Getenv(envArg))
	}
	if err := s.Close(); err != nil {
		fmt.Printf("error close: %v\n", err)
	}
}

// helperRace waits for "go" on stdin, then tries every key and increments
// the counter account, printing each outcome.
func helperRace(s *Store, arg string) {
	n, _ := strconv.Atoi(arg)
	fmt.Println("ready")
	if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		return
	}
	ctx := contextForHelper()
	for i := range n {
		err := s.MarkUsedDeferred(ctx, fmt.Sprintf("race-%d", i), time.Now().Add(time.Hour), time.Now())
		switch {
		case err == nil:
			fmt.Printf("won %d\n", i)
		case errors.Is(err, store.ErrAlreadyExists):
		default:
			fmt.Printf("error mark %d: %v\n", i, err)
		}
		if i%4 == 0 {
			if err := increment(s); err != nil {
				fmt.Printf("error increment: %v\n", err)
			} else {
				fmt.Println("incremented")
			}
		}
	}
}

// helperCrash records keys and bumps the counter account until killed,
// printing each one only after the store returned success.
func helperCrash(s *Store, prefix string) {
	ctx := contextForHelper()
	for i := 0; ; i++ {
		if err := s.MarkUsedDeferred(ctx, fmt.Sprintf("%s-%d", prefix, i), time.Now().Add(time.Hour), time.Now()); err != nil {
			fmt.Printf("error mark %d: %v\n", i, err)
			return
		}
		// One write(2) per line, so that a line in the pipe means the
		// store had returned before the kill.
		fmt.Printf("marked %d\n", i)
		if i%3 == 0 {
			a, err := s.Get(ctx, counterID)
			if err != nil {
				fmt.Printf("error get: %v\n", err)
				return
			}
			a.FriendlyName = fmt.Sprintf("bumped by %s-%d", prefix, i)
			v, err := s.Put(ctx, a, a.Version, time.Now())
			if err != nil {
				fmt.Printf("error put: %v\n", err)
				return
			}
			fmt.Printf("version %d\n", v)
		}
	}
}

// increment adds one to the counter account's version, retrying on
// conflicts with the other processes.
func increment(s *Store) error {
	ctx := contextForHelper()
	for range 1000 {
		a, err := s.Get(ctx, counterID)
		if err != nil {
			return err
		}
		_, err = s.Put(ctx, a, a.Version, time.Now())
		if !errors.Is(err, store.ErrVersionConflict) {
			return err
		}
	}
	return errors.New("1000 conflicts in a row")
}

// child starts the helper mode on path.
func child(t *testing.T, mode, path, arg string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"="+mode, envPath+"="+path, envArg+"="+arg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stop it if the test failed before it finished; Wait reaps it.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, stdin, bufio.NewScanner(stdout)
}

// TestProcessesRace: three processes (two children and this one) race on
// the same assertion keys and the same account. Each key is won by exactly
// one process, and no increment of the account is lost.
func TestProcessesRace(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	defer s.Close()
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: counterID}, 0, t0); err != nil {
		t.Fatal(err)
	}
	const n = 120
	type outcome struct {
		wins       []int
		increments int
		errs       []string
	}
	results := make(chan outcome, 3)
	var stdins []io.WriteCloser
	for range 2 {
		_, stdin, out := child(t, "race", path, strconv.Itoa(n))
		if !out.Scan() || out.Text() != "ready" {
			t.Fatalf("child did not start: %q %v", out.Text(), out.Err())
		}
		stdins = append(stdins, stdin)
		go func() {
			var o outcome
			for out.Scan() {
				line := out.Text()
				switch {
				case strings.HasPrefix(line, "won "):
					i, _ := strconv.Atoi(strings.TrimPrefix(line, "won "))
					o.wins = append(o.wins, i)
				case line == "incremented":
					o.increments++
				case strings.HasPrefix(line, "error"):
					o.errs = append(o.errs, line)
				}
			}
			results <- o
		}()
	}
	go func() {
		var o outcome
		for i := range n {
			err := s.MarkUsed(t.Context(), fmt.Sprintf("race-%d", i), time.Now().Add(time.Hour), time.Now())
			switch {
			case err == nil:
				o.wins = append(o.wins, i)
			case !errors.Is(err, store.ErrAlreadyExists):
				o.errs = append(o.errs, err.Error())
			}
			if i%4 == 0 {
				if err := increment(s); err != nil {
					o.errs = append(o.errs, err.Error())
				} else {
					o.increments++
				}
			}
		}
		results <- o
	}()
	for _, w := range stdins {
		if _, err := io.WriteString(w, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	wins := make([]int, n)
	increments := 0
	winners := 0
	for range 3 {
		o := <-results
		for _, e := range o.errs {
			t.Errorf("writer error: %s", e)
		}
		for _, i := range o.wins {
			wins[i]++
		}
		if len(o.wins) > 0 {
			winners++
		}
		increments += o.increments
	}
	for i, w := range wins {
		if w != 1 {
			t.Errorf("key race-%d won %d times, want exactly once", i, w)
		}
	}
	a, err := s.Get(t.Context(), counterID)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(1 + increments); a.Version != want || increments != 3*(n/4) {
		t.Errorf("account version %d after %d increments (want %d, and %d increments)", a.Version, increments, want, 3*(n/4))
	}
	t.Logf("keys won by %d of 3 processes", winners)
}

// TestKill9LosesNothing: a process recording assertion IDs and updating
// an account is killed with SIGKILL at an arbitrary moment, several times
// in a row on the same file. After each kill, every ID it reported as
// recorded is still a replay, the account is readable at (at least) the
// last version it reported, and SQLite's integrity check passes.
func TestKill9LosesNothing(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: counterID, FriendlyName: "start"}, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		prefix := fmt.Sprintf("round%d", round)
		cmd, _, out := child(t, "crash", path, prefix)
		var marked []int
		var lastVersion int64
		// Kill after a varying number of records, without waiting for a
		// line: the child is then somewhere inside its next write.
		killAt := 40 + 37*round
		for out.Scan() {
			line := out.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			if v, ok := strings.CutPrefix(line, "marked "); ok {
				i, _ := strconv.Atoi(v)
				marked = append(marked, i)
				if len(marked) == killAt {
					if err := cmd.Process.Kill(); err != nil { // SIGKILL
						t.Fatal(err)
					}
				}
			}
			if v, ok := strings.CutPrefix(line, "version "); ok {
				lastVersion, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		err := cmd.Wait()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ProcessState.String() != "signal: killed" {
			t.Fatalf("child ended with %v, want killed", err)
		}
		if len(marked) < killAt {
			t.Fatalf("child reported only %d records before it ended", len(marked))
		}

		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		if err := s.IntegrityCheck(t.Context()); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		now := time.Now()
		for _, i := range marked {
			key := fmt.Sprintf("%s-%d", prefix, i)
			if err := s.MarkUsed(t.Context(), key, now.Add(time.Hour), now); !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("round %d: recorded %s was lost: MarkUsed = %v", round, key, err)
			}
		}
		a, err := s.Get(t.Context(), counterID)
		if err != nil {
			t.Fatalf("round %d: account after kill -9: %v", round, err)
		}
		// The child may have committed one more version than it printed.
		if a.Version < lastVersion || a.Version > lastVersion+1 || a.AccountSID != counterID {
			t.Errorf("round %d: account v%d, child reported v%d", round, a.Version, lastVersion)
		}
		// Same boot: the killed child's NORMAL commits were in the page
		// cache, nothing can be missing, so the epoch stays.
		if e := s.ReplayEpoch(); e != 0 {
			t.Errorf("round %d: epoch %d after a kill in the same boot", round, e)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d records, account v%d", round, len(marked), a.Version)
	}
	// Had the machine gone down instead, the killed children's handles,
	// still registered, would move the epoch at the next boot.
	s, err := Open(path, Options{BootID: func() (string, error) { return "the next boot", nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e := s.ReplayEpoch(); e != 1 {
		t.Errorf("next boot: epoch %d, want 1", e)
	}
}

// contextForHelper is the helpers' context: they run outside a test's
// lifetime (in the child), so there is no t.Context to use.
func contextForHelper() context.Context { return context.Background() }
