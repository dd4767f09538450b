package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// asJSONValue reads YAML (or JSON) into the values a JSON Schema validator takes.
func asJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExampleSpecsValidateAgainstTheSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, f := range []string{"testdata/base.yaml", "testdata/prod.yaml", "testdata/auth.json"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(asJSONValue(t, data)); err != nil {
			t.Errorf("%s does not validate: %v", f, err)
		}
	}
}

func TestSchemaRefusesWhatLoadRefuses(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, text := range []string{
		"accounts: {A: {limits: {conections: 2}}}",
		"accounts: {A: {exports: [{subject: a, type: queue}]}}",
		"accounts: {A: {imports: [{subject: a}]}}",
		"accounts: {A: {users: {u: {pub: {allow: a}}}}}",
	} {
		if err := sch.Validate(asJSONValue(t, []byte(text))); err == nil {
			t.Errorf("the schema accepts %s", text)
		}
		if _, err := Load(src("x.yaml", text)); err == nil {
			t.Errorf("Load accepts %s", text)
		}
	}
}

func TestExportedSpecValidatesAgainstTheSchema(t *testing.T) {
	t.Parallel()
	l, err := ReadFiles("testdata/base.yaml", "testdata/prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, asJSON := range []bool{false, true} {
		data, err := Marshal(l.Spec, asJSON)
		if err != nil {
			t.Fatal(err)
		}
		if err := compileSchema(t).Validate(asJSONValue(t, data)); err != nil {
			t.Errorf("the written spec (json %v) does not validate: %v\n%s", asJSON, err, data)
		}
	}
}
