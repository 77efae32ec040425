// Command tally is the inventory agent for school library media centers:
// one binary for running the agent, importing the catalog, planning
// inventories, scanning from a terminal, reports and device set-up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one `tally <name>` subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands []command

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands = append(commands, command{name, summary, run})
}

// Build information, set with -ldflags "-X main.version=…".
var (
	version  = "dev"
	revision = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var stdout io.Writer = os.Stdout
var stderr io.Writer = os.Stderr
var stdin io.Reader = os.Stdin

func runMain(ctx context.Context, args []string, out, errw io.Writer) int {
	stdout, stderr = out, errw
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(out)
		return 0
	}
	name := args[0]
	if n, rest, ok := commandAt(args, isCommand); ok {
		name, args = n, append([]string{n}, rest...)
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(ctx, args[1:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return 0
				}
				fmt.Fprintf(errw, "tally %s: %s\n", name, clipLines(err.Error()))
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(errw, "tally: unknown command %q\n\n", name)
	usage(errw)
	return 2
}

func isCommand(name string) bool {
	for _, c := range commands {
		if c.name == name {
			return true
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "tally — inventory agent for school library media centers\n\nUsage: tally <command> [flags]\n\nCommands:\n")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEvery command takes --help; flags go before or after the arguments (\"--\" ends them).\nThe database is --db PATH, or $TALLY_DB, or ./tally.db.\n")
}

// newFlags makes a FlagSet whose --help prints the command's usage.
func newFlags(name, usageLine, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("tally "+name, flag.ContinueOnError)
	usageLines[fs] = usageLine
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tally %s %s\n\n%s\n", name, usageLine, strings.TrimSpace(about))
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// usageLines keeps each FlagSet's usage line for parseArgs's errors.
var usageLines = map[*flag.FlagSet]string{}

// dbFlag adds --db with the TALLY_DB default.
func dbFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("TALLY_DB")
	if def == "" {
		def = "tally.db"
	}
	return fs.String("db", def, "SQLite database `path` (or set TALLY_DB)")
}

// multi is a repeatable or comma-separated string flag.
type multi []string

func (m *multi) String() string { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

// subcommands lists each two-word command's second words, for tests.
var subcommands = map[string][]string{}

// sub dispatches a two-word command such as "inventory create".
func sub(name string, subs map[string]func(ctx context.Context, args []string) error, about string) func(ctx context.Context, args []string) error {
	for k := range subs {
		subcommands[name] = append(subcommands[name], k)
	}
	return func(ctx context.Context, args []string) error {
		keys := make([]string, 0, len(subs))
		for k := range subs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintf(stdout, "Usage: tally %s <%s> [flags]\n\n%s\n", name, strings.Join(keys, "|"), about)
			if len(args) == 0 {
				return errors.New("say which: " + strings.Join(keys, ", "))
			}
			return flag.ErrHelp
		}
		if n, rest, ok := commandAt(args, func(s string) bool { _, ok := subs[s]; return ok }); ok {
			args = append([]string{n}, rest...) // flags before the subcommand
		}
		f, ok := subs[args[0]]
		if !ok {
			return fmt.Errorf("unknown subcommand %q: want one of %s", args[0], strings.Join(keys, ", "))
		}
		return f(ctx, args[1:])
	}
}

func sortSlice[T any](s []T, less func(a, b T) bool) {
	sort.Slice(s, func(i, j int) bool { return less(s[i], s[j]) })
}
