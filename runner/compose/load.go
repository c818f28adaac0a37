package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// Compose's labels (docker/compose v5.6.0 pkg/api/labels.go).
const (
	labelProject     = "com.docker.compose.project"
	labelService     = "com.docker.compose.service"
	labelNetwork     = "com.docker.compose.network"
	labelVersion     = "com.docker.compose.version"
	labelHash        = "com.docker.compose.config-hash"
	labelNumber      = "com.docker.compose.container-number"
	labelWorkingDir  = "com.docker.compose.project.working_dir"
	labelConfigFiles = "com.docker.compose.project.config_files"
	labelEnvFile     = "com.docker.compose.project.environment_file"
	labelOneoff      = "com.docker.compose.oneoff"
	labelDependsOn   = "com.docker.compose.depends_on"
	labelImage       = "com.docker.compose.image"
)

// loadMu serializes the loading of projects: compose-go warns through
// logrus's one global logger (`the attribute version is obsolete`, `The
// "X" variable is not set`), which each load points at its own command's
// stderr for as long as it runs. Loads take milliseconds.
var loadMu sync.Mutex

// abs makes path absolute against the caller's directory.
func (c *cmd) abs(path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.o.Dir, path)
}

// configPaths are the Compose files the command reads: -f's, else
// COMPOSE_FILE's, else those found from the project directory (or the
// caller's) upwards, as compose-go's WithConfigFileEnv and
// WithDefaultConfigPath find them, but from the caller's directory
// rather than the process's.
func (c *cmd) configPaths() []string {
	var paths []string
	for _, f := range c.opts.files {
		if f != "-" {
			f = c.abs(f)
		}
		paths = append(paths, f)
	}
	if len(paths) > 0 {
		return paths
	}
	if f := c.getenv("COMPOSE_FILE"); f != "" {
		sep := c.getenv("COMPOSE_PATH_SEPARATOR")
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		for _, p := range strings.Split(f, sep) {
			paths = append(paths, c.abs(p))
		}
		return paths
	}
	dir := c.abs(c.opts.projectDir)
	if dir == "" {
		dir = c.o.Dir
	}
	for dir != "" {
		found := existing(dir, cli.DefaultFileNames)
		if len(found) > 0 {
			if len(found) > 1 {
				c.warn("Found multiple config files with supported names: %s", strings.Join(found, ", "))
				c.warn("Using %s", found[0])
			}
			paths = append(paths, found[0])
			if over := existing(dir, cli.DefaultOverrideFileNames); len(over) > 0 {
				paths = append(paths, over[0])
			}
			return paths
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return nil
}

// existing lists the files of names that exist in dir.
func existing(dir string, names []string) []string {
	var out []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// load reads the project as Docker Compose does for a command that acts on
// services (cmd/compose/compose.go ToProject, then pkg/compose/loader.go
// postProcessProject, v5.6.0): the files, the .env file, the environment,
// profiles, the project's name, then the services named (and their
// dependencies), with Compose's labels set on each service.
func (c *cmd) load(ctx context.Context, services []string) (*types.Project, error) {
	paths := c.configPaths()
	var environ []string
	for k, v := range c.env {
		environ = append(environ, k+"="+v)
	}
	if _, ok := c.env["PWD"]; !ok {
		environ = append(environ, "PWD="+c.o.Dir)
	}
	var envFiles []string
	for _, f := range c.opts.envFiles {
		envFiles = append(envFiles, c.abs(f))
	}
	projectDir := c.abs(c.opts.projectDir)
	if projectDir == "" && len(paths) == 0 {
		projectDir = c.o.Dir // no file: the name and .env come from here
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	logrus.SetOutput(c.stderr())
	defer logrus.SetOutput(io.Discard)
	po, err := cli.NewProjectOptions(paths,
		cli.WithWorkingDirectory(projectDir),
		cli.WithEnv(environ),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(c.opts.profiles...),
		cli.WithName(c.opts.project),
		cli.WithoutEnvironmentResolution)
	if err != nil {
		return nil, err
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		if h := hint(po.ConfigPaths); h != "" {
			// Compose's message, then labrun's.
			return nil, fmt.Errorf("%w\nlabrun: %s", err, h)
		}
		return nil, err
	}
	if p.Name == "" {
		return nil, errors.New("project name can't be empty. Use ProjectName option to set a valid name")
	}
	if p, err = p.WithServicesEnabled(services...); err != nil {
		return nil, err
	}
	for name, s := range p.Services {
		s.CustomLabels = map[string]string{
			labelProject: p.Name, labelService: name, labelVersion: Version,
			labelWorkingDir: p.WorkingDir, labelConfigFiles: strings.Join(p.ComposeFiles, ","), labelOneoff: "False",
		}
		if len(envFiles) > 0 {
			s.CustomLabels[labelEnvFile] = strings.Join(envFiles, ",")
		}
		p.Services[name] = s
	}
	if p, err = p.WithSelectedServices(services); err != nil {
		return nil, err
	}
	p = p.WithoutUnnecessaryResources()
	return p.WithServicesEnvironmentResolved(true)
}

// projectOrName is the project a command acts on, read from its files
// when -f names them or -p does not name it, else only its name (-p's),
// as Compose's projectOrName (cmd/compose/compose.go, v5.6.0): ps, down
// and logs then work from the objects' labels alone.
func (c *cmd) projectOrName(services []string) (*types.Project, string, error) {
	if len(c.opts.files) == 0 && c.opts.project != "" {
		return nil, strings.ToLower(c.opts.project), nil
	}
	p, err := c.load(c.ctx, services)
	if err != nil {
		if env := c.getenv("COMPOSE_PROJECT_NAME"); env != "" {
			return nil, env, nil
		}
		return nil, "", err
	}
	return p, p.Name, nil
}

// toProjectName is the name of the project a command acts on: -p's, else
// COMPOSE_PROJECT_NAME's, else its files' (Compose's toProjectName: port,
// exec).
func (c *cmd) toProjectName() (string, error) {
	if c.opts.project != "" {
		return strings.ToLower(c.opts.project), nil
	}
	if env := c.getenv("COMPOSE_PROJECT_NAME"); env != "" {
		return env, nil
	}
	p, err := c.load(c.ctx, nil)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

func init() {
	// compose-go's warnings go where load points them, nowhere else.
	logrus.SetOutput(io.Discard)
	logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
}
