// Package compose is `docker compose` (Docker Compose v5, the docker CLI
// plugin) on top of a dockercli.Session: its command line (-f, -p,
// --project-directory, --env-file, --profile; up, down, ps, port, exec,
// logs, config), its outputs and error texts, and what it asks of the
// engine. Compose files are read by the Compose Specification's own
// library, compose-go, exactly as Docker Compose reads them: the same
// interpolation, defaults, validation and errors.
//
// What Compose asks of the engine is pure translation here (spec.go): the
// project's networks (`<project>_<key>`, with Compose's labels), and for
// each service its containers (`<project>-<service>-<n>`, aliases, the
// addresses, ports, modes and names of the service, Compose's labels), in
// dependency order. The engine then does what it does for docker network
// create and docker run; Compose finds its objects again by their labels,
// as Docker Compose does, so that a live lab's shells, which make a new
// session for every command line, share a project.
//
// It is not the engine (netkit), nor the docker CLI (runner/dockercli), nor
// an image builder: services run the built-in images, and `build:` fails as
// it does where Docker has no builder to reach. Volumes, secrets, configs,
// healthchecks and restart policies are read (compose-go checks them) but
// not acted on.
package compose
