# The labrun image, for running the scenario suite in CI (docs/ci.md):
#   docker build -t labrun .
#   docker run --rm --privileged labrun -shard 1/3 -junit /results/junit-1.xml scenarios/
# The container must be privileged: labrun makes network namespaces, bridges
# and firewall rules, all inside the container's own network namespace.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/labrun ./cmd/labrun

FROM debian:bookworm-slim
# What labs use (make deps lists the same): ip, iptables and nft, tcpdump for
# captures, brctl, pgrep and modprobe.
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		iproute2 iptables nftables tcpdump bridge-utils procps kmod ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/labrun /usr/local/bin/labrun
COPY scenarios /labrun/scenarios
WORKDIR /labrun
ENTRYPOINT ["labrun"]
CMD ["scenarios/"]
