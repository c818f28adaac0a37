package oracle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ComposeVersion is the Docker Compose that `make oracle` builds (`make
// oracle-compose`): github.com/docker/compose/v5 at this version, as the
// docker CLI plugin docker-compose in Dir/compose-VERSION.
const ComposeVersion = "5.6.0"

// ComposePlugin returns the directory of the Docker Compose plugin in dir
// ("": DefaultDir()), and whether it is there.
func ComposePlugin(dir string) (string, bool) {
	if dir == "" {
		dir = DefaultDir()
	}
	plugins := filepath.Join(dir, "compose-"+ComposeVersion)
	_, err := os.Stat(filepath.Join(plugins, "docker-compose"))
	return plugins, err == nil
}

// ComposeConfig makes a docker CLI configuration directory (DOCKER_CONFIG)
// whose config.json names the plugin's directory in cliPluginsExtraDirs,
// so that `docker compose` is Docker Compose ComposeVersion, and no other
// configuration of the machine's is read. The caller removes it.
//
// Equivalent to: echo '{"cliPluginsExtraDirs": ["DIR/compose-5.6.0"]}' >CFG/config.json
func ComposeConfig(dir string) (string, error) {
	plugins, ok := ComposePlugin(dir)
	if !ok {
		return "", fmt.Errorf("no Docker Compose %s in %s (make oracle builds it)", ComposeVersion, plugins)
	}
	cfg, err := os.MkdirTemp("", "labrun-oracle-docker-config-")
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(map[string][]string{"cliPluginsExtraDirs": {plugins}})
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), b, 0o600); err != nil {
		os.RemoveAll(cfg)
		return "", err
	}
	return cfg, nil
}
