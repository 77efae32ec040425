package all_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tally-inventory/tally/sync/sinks"
	_ "github.com/tally-inventory/tally/sync/sinks/all"
)

// TestExamplesParse: every registered sink's example block is its section,
// decodes strictly into its config struct (an unknown key fails) and is
// valid as written.
func TestExamplesParse(t *testing.T) {
	all := sinks.All()
	if len(all) < 5 {
		t.Fatalf("%d sinks registered: %v", len(all), sinks.Names())
	}
	for _, p := range all {
		t.Run(p.Name, func(t *testing.T) {
			if !strings.HasPrefix(p.Example, p.Name+":") {
				t.Fatalf("example does not start with %q:\n%s", p.Name+":", p.Example)
			}
			c := p.NewConfig()
			section := reflect.New(reflect.StructOf([]reflect.StructField{{
				Name: "S", Type: reflect.TypeOf(c), Tag: reflect.StructTag(fmt.Sprintf("yaml:%q", p.Name)),
			}}))
			dec := yaml.NewDecoder(strings.NewReader(p.Example))
			dec.KnownFields(true)
			if err := dec.Decode(section.Interface()); err != nil {
				t.Fatalf("example:\n%s%v", p.Example, err)
			}
			got := section.Elem().Field(0)
			if got.IsNil() || got.Elem().IsZero() {
				t.Fatalf("example sets nothing:\n%s", p.Example)
			}
			if errs := p.Validate(got.Interface().(sinks.Config)); len(errs) > 0 {
				t.Errorf("example is not valid: %v", errs)
			}
		})
	}
}
