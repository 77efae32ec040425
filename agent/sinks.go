package agent

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
	_ "github.com/tally-inventory/tally/sync/sinks/all" // every sink's registration
)

// UnmarshalYAML decodes the sync section: interval, and each registered
// sink's section into that sink's config struct. It takes the decoder's
// own unmarshal function (yaml.v3's obsolete Unmarshaler form) rather than
// a node, so the section is decoded as strictly as the rest of the file:
// an unknown key, in the section or in a sink's, is an error at its line.
func (s *SyncConfig) UnmarshalYAML(unmarshal func(any) error) error {
	all := sinks.All()
	fields := []reflect.StructField{{Name: "Interval", Type: reflect.TypeFor[Duration](), Tag: `yaml:"interval"`}}
	for i, p := range all {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("Sink%d", i),
			Type: reflect.TypeOf(p.NewConfig()), // a pointer: nil when the section is absent
			Tag:  reflect.StructTag(fmt.Sprintf("yaml:%q", p.Name)),
		})
	}
	v := reflect.New(reflect.StructOf(fields)).Elem()
	v.Field(0).Set(reflect.ValueOf(s.Interval))
	err := unmarshal(v.Addr().Interface())
	s.Interval = v.Field(0).Interface().(Duration)
	for i, p := range all {
		if f := v.Field(i + 1); !f.IsNil() {
			if s.Sinks == nil {
				s.Sinks = map[string]sinks.Config{}
			}
			s.Sinks[p.Name] = f.Interface().(sinks.Config)
		}
	}
	return err
}

// validateSinks checks each configured sink's section, each problem at its
// key's line.
func (c *Config) validateSinks() []error {
	var errs []error
	for _, p := range sinks.All() {
		if sc, ok := c.Sync.Sinks[p.Name]; ok {
			for _, err := range p.Validate(sc) {
				errs = append(errs, c.KeyError("sync."+p.Name, err))
			}
		}
	}
	return errs
}

// SinkItem is what the sinks may know of a catalog item.
func SinkItem(it catalog.Item) sinks.Item {
	return sinks.Item{Title: it.Title, Author: it.Author, CallNumber: it.CallNumber,
		Library: it.Library, Location: it.Location, Collection: it.Collection,
		Status: string(it.Status), Equipment: it.Kind == catalog.KindEquipment}
}

// Sinks builds the configured sinks, in the order of their names. lookup
// is the catalog the sinks may read at delivery (the engine's index); nil
// for none.
func Sinks(sc SyncConfig, lookup func(barcode string) (catalog.Item, bool)) ([]relay.Sink, error) {
	env := sinks.Env{}
	if lookup != nil {
		env.Lookup = func(bc string) (sinks.Item, bool) {
			it, ok := lookup(bc)
			return SinkItem(it), ok
		}
	}
	var out []relay.Sink
	for _, name := range slices.Sorted(maps.Keys(sc.Sinks)) {
		p, err := sinks.Lookup(name)
		if err != nil {
			return nil, err
		}
		s, err := p.Build(sc.Sinks[name], env)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
