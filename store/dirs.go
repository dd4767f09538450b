package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DirOptions are the user's explicit choices of folders (flags); empty fields fall back to the
// environment and then to nsc's defaults.
type DirOptions struct {
	ConfigDir   string // --config-dir
	DataDir     string // --data-dir (the folder holding the operator stores)
	KeystoreDir string // --keystore-dir
	AllDirs     string // -H/--all-dirs: config, stores and keystore all in one folder, as nsc does
}

// Dirs are the resolved folders signet works with, the same ones nsc uses.
type Dirs struct {
	ConfigDir   string // holds nsc.json
	StoresDir   string // holds one folder per operator
	KeystoreDir string // holds keys/ and creds/
	CwdOnly     bool   // NSC_CWD_ONLY: the context comes from the working directory, not nsc.json
}

// ResolveDirs applies nsc's rules: flags first, then NSC_HOME / NKEYS_PATH, then the XDG folders,
// falling back to the legacy ~/.nsc and ~/.nkeys when only those exist.
func ResolveDirs(opts DirOptions, getenv func(string) string) (Dirs, error) {
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err == nil {
			home = h
		}
	}
	envOr := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	configBase := envOr("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	dataBase := envOr("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))

	var d Dirs
	d.CwdOnly = getenv("NSC_CWD_ONLY") != ""
	if opts.AllDirs != "" {
		// nsc sets all three folders to DIR: nsc.json, the operator folders (DIR/<operator>),
		// and the keystore's keys/ and creds/ sit side by side, and scripts read them there.
		d.ConfigDir = opts.AllDirs
		d.StoresDir = opts.AllDirs
		d.KeystoreDir = opts.AllDirs
	}

	switch {
	case opts.ConfigDir != "":
		d.ConfigDir = opts.ConfigDir
	case d.ConfigDir != "":
	case getenv("NSC_HOME") != "":
		d.ConfigDir = getenv("NSC_HOME")
	default:
		newDir := filepath.Join(configBase, "nats", "nsc")
		oldDir := filepath.Join(home, ".nsc")
		if !exists(filepath.Join(newDir, ConfigFileName)) && exists(filepath.Join(oldDir, ConfigFileName)) {
			d.ConfigDir = oldDir
		} else {
			d.ConfigDir = newDir
		}
	}

	switch {
	case opts.DataDir != "":
		d.StoresDir = opts.DataDir
	case d.StoresDir != "":
	default:
		newDir := filepath.Join(dataBase, "nats", "nsc", "stores")
		oldDir := filepath.Join(home, ".nsc", "nats")
		if !exists(newDir) && exists(oldDir) {
			d.StoresDir = oldDir
		} else {
			d.StoresDir = newDir
		}
	}

	switch {
	case opts.KeystoreDir != "":
		d.KeystoreDir = opts.KeystoreDir
	case d.KeystoreDir != "":
	case getenv("NKEYS_PATH") != "":
		d.KeystoreDir = getenv("NKEYS_PATH")
	default:
		newDir := filepath.Join(dataBase, "nats", "nsc", "keys")
		oldDir := filepath.Join(home, ".nkeys")
		if !exists(newDir) && exists(oldDir) {
			d.KeystoreDir = oldDir
		} else {
			d.KeystoreDir = newDir
		}
	}
	for _, p := range []*string{&d.ConfigDir, &d.StoresDir, &d.KeystoreDir} {
		abs, err := filepath.Abs(expandHome(*p, home))
		if err != nil {
			return Dirs{}, fmt.Errorf("resolve %q: %w", *p, err)
		}
		*p = abs
	}
	return d, nil
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// ConfigFileName is nsc's context file.
const ConfigFileName = "nsc.json"

// ToolConfig is nsc.json: which stores folder, operator and account are current. Fields signet does
// not know are kept as they are, so nsc's own settings survive a signet write.
type ToolConfig struct {
	StoreRoot string `json:"store_root"`
	Operator  string `json:"operator"`
	Account   string `json:"account"`

	extra map[string]json.RawMessage
}

// LoadToolConfig reads nsc.json from dir; a missing file gives an empty config.
func LoadToolConfig(dir string) (*ToolConfig, error) {
	path := filepath.Join(dir, ConfigFileName)
	data, err := os.ReadFile(path)
	if isNotExist(err) {
		return &ToolConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w (fix or delete the file)", path, err)
	}
	c := &ToolConfig{extra: map[string]json.RawMessage{}}
	for k, v := range raw {
		var target *string
		switch k {
		case "store_root":
			target = &c.StoreRoot
		case "operator":
			target = &c.Operator
		case "account":
			target = &c.Account
		default:
			c.extra[k] = v
			continue
		}
		if err := json.Unmarshal(v, target); err != nil {
			return nil, fmt.Errorf("parse %s: field %q: %w", path, k, err)
		}
	}
	return c, nil
}

// Save writes nsc.json atomically.
func (c *ToolConfig) Save(dir string) error {
	out := map[string]any{}
	for k, v := range c.extra {
		out[k] = v
	}
	out["store_root"] = c.StoreRoot
	out["operator"] = c.Operator
	out["account"] = c.Account
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", ConfigFileName, err)
	}
	return WriteFileAtomic(filepath.Join(dir, ConfigFileName), append(data, '\n'), 0o600, 0o700)
}
