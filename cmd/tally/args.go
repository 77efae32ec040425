package main

import (
	"flag"
	"fmt"
	"strings"
)

// parseArgs parses fs's flags wherever they stand among the positional
// arguments — `tally inventory show 2 --json` as well as
// `tally inventory show --json 2` — and leaves the positional arguments, in
// order, in fs.Args(). A lone "--" ends the flags: what follows is
// positional. maxArgs caps the positional arguments (-1: any number), so a
// word meant as a flag's value that lost its flag is an error, not ignored.
//
// The standard flag package stops at the first positional argument; every
// command parses through here so that none of them silently takes a flag for
// a file name, a report or an id.
func parseArgs(fs *flag.FlagSet, args []string, maxArgs int) error {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		left := fs.Args()
		used := rest[:len(rest)-len(left)]
		if len(used) > 0 && used[len(used)-1] == "--" {
			pos = append(pos, left...) // "--": the rest is positional
			break
		}
		if len(left) == 0 {
			break
		}
		pos = append(pos, left[0])
		rest = left[1:]
	}
	// Leave the positional arguments in fs.Args().
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil {
		return err
	}
	if maxArgs >= 0 && len(pos) > maxArgs {
		name := strings.TrimPrefix(fs.Name(), "tally ")
		if maxArgs == 0 {
			return fmt.Errorf("unexpected argument %q: `tally %s` takes only flags (see `tally %s --help`)", pos[0], name, name)
		}
		return fmt.Errorf("unexpected argument %q: usage is `tally %s %s` (see `tally %s --help`)", pos[maxArgs], name, usageLines[fs], name)
	}
	return nil
}

// commandAt finds the command name in args when flags come before it
// (`tally --db x.db inventory list`): the first argument that names one of
// names. It returns the name and args without it; ok is false when args
// start with no flag or name no command.
func commandAt(args []string, names func(string) bool) (name string, rest []string, ok bool) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return "", nil, false
	}
	for i, a := range args {
		if a == "--" {
			break
		}
		if names(a) {
			rest = append(append([]string(nil), args[:i]...), args[i+1:]...)
			return a, rest, true
		}
	}
	return "", nil, false
}
