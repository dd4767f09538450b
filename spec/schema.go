package spec

import (
	"encoding/json"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the spec's JSON Schema.
const SchemaID = "https://github.com/signet-dev/signet/spec/auth.schema.json"

// Schema returns the JSON Schema of the spec file, made from the Go types so that the two
// cannot drift apart. Unknown fields are refused (additionalProperties false), as Load does.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		// The spec's own field names are snake_case json tags; required-ness comes from
		// omitempty.
		RequiredFromJSONSchemaTags: false,
		DoNotReference:             false,
	}
	s := r.Reflect(&Spec{})
	s.ID = SchemaID
	s.Title = "signet auth as code"
	s.Description = "One NATS operator's desired state: accounts, limits, exports, imports, mappings, scoped signing keys by role, and users. Keys are never in the file."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
