package export

import (
	_ "embed"
	"os"
	"path/filepath"

	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is the sync.export section of tally.yaml.
type Config struct {
	Dir string `yaml:"dir"` // the folder to write into; made with its parents
}

//go:embed example.yaml
var example string

func init() { sinks.Add("export", example, build) }

// Validate implements sinks.Config.
func (c *Config) Validate() error {
	if c.Dir == "" {
		return sinks.Field("dir", "name the folder to write into")
	}
	return nil
}

// Check looks at the folder without making it (a check run as root must
// not create it): the nearest parent that exists must be a folder.
func (c *Config) Check() error {
	p := filepath.Clean(c.Dir)
	for {
		if _, err := os.Stat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		p = filepath.Dir(p)
	}
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return sinks.Field("dir", "%s is not a folder, so %s cannot be made in it", p, c.Dir)
	}
	return nil
}

func build(c *Config, env sinks.Env) (relay.Sink, error) {
	s, err := New(c.Dir, Opts{Lookup: env.Lookup})
	if err != nil {
		return nil, err
	}
	return s, nil
}
