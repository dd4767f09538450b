package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source is one file of a spec: its name, for messages, and its content (YAML or JSON).
type Source struct {
	Name string
	Data []byte
}

// Loaded is a spec read from one or more files, with where each value came from, so that
// errors found later (an import of an unknown account) name the file and line.
type Loaded struct {
	Spec  *Spec
	root  *yaml.Node
	files map[*yaml.Node]string
}

// ReadFiles reads the files at paths and loads them with Load.
func ReadFiles(paths ...string) (*Loaded, error) {
	var srcs []Source
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read spec: %w", err)
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	return Load(srcs...)
}

// Load reads a spec from one or more sources, each YAML or JSON. Later sources are overlays:
// where two sources set the same key of a map (accounts, an account's fields, signing keys,
// users, mappings), the values merge key by key; a scalar or a list (exports, imports, allow and
// deny lists, tags) in a later source replaces the earlier one whole; null removes a key. Every
// source is checked on its own first: an unknown field is an error naming the file, the line and
// the field. Load then validates the merged spec (names, subjects, references across the file).
func Load(srcs ...Source) (*Loaded, error) {
	if len(srcs) == 0 {
		return nil, errors.New("no spec file: pass one with -f FILE")
	}
	l := &Loaded{files: map[*yaml.Node]string{}}
	var merged *yaml.Node
	for _, src := range srcs {
		doc, err := parseStrict(src)
		if err != nil {
			return nil, err
		}
		if doc == nil {
			continue
		}
		l.record(doc, src.Name)
		merged = l.merge(merged, doc)
	}
	sp := &Spec{}
	if merged != nil {
		if err := merged.Decode(sp); err != nil {
			return nil, fmt.Errorf("spec: %w", err)
		}
	}
	l.Spec, l.root = sp, merged
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l, nil
}

var unknownFieldRE = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// parseStrict decodes one source into a Spec with unknown fields refused (to report them with
// the source's name) and returns its root mapping, or nil for an empty source.
func parseStrict(src Source) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	dec.KnownFields(true)
	var sp Spec
	if err := dec.Decode(&sp); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, sourceError(src.Name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src.Data, &doc); err != nil {
		return nil, sourceError(src.Name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// sourceError rewrites yaml's errors as "file:line: what", one per line.
func sourceError(name string, err error) error {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for i, l := range lines {
		if m := unknownFieldRE.FindStringSubmatch(l); m != nil {
			lines[i] = fmt.Sprintf("%s:%s: unknown field %q", name, m[1], m[2])
			continue
		}
		if rest, ok := strings.CutPrefix(l, "line "); ok {
			if n, tail, ok := strings.Cut(rest, ": "); ok {
				if _, err := strconv.Atoi(n); err == nil {
					lines[i] = fmt.Sprintf("%s:%s: %s", name, n, tail)
					continue
				}
			}
		}
		lines[i] = fmt.Sprintf("%s: %s", name, l)
	}
	return errors.New(strings.Join(lines, "\n"))
}

func (l *Loaded) record(n *yaml.Node, name string) {
	l.files[n] = name
	for _, c := range n.Content {
		l.record(c, name)
	}
}

// merge lays over on base: mappings merge by key, anything else in over replaces base.
func (l *Loaded) merge(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: base.Tag, Line: base.Line, Column: base.Column}
	l.files[out] = l.files[base]
	out.Content = append(out.Content, base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		found := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = l.merge(out.Content[j+1], v)
				found = true
				break
			}
		}
		if !found {
			out.Content = append(out.Content, k, v)
		}
	}
	return out
}

// Pos is where the value at path (map keys as strings, list indexes as ints) was written:
// "file:line", or the deepest part of the path that exists.
func (l *Loaded) Pos(path ...any) string {
	n := l.root
	if n == nil {
		return "spec"
	}
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			break
		}
		n = next
	}
	return fmt.Sprintf("%s:%d", l.files[n], n.Line)
}

func child(n *yaml.Node, p any) *yaml.Node {
	switch k := p.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
			return n.Content[k]
		}
	}
	return nil
}
