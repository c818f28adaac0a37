package ports

// Exposed lists a container's exposed ports: the image's EXPOSE ports,
// then --expose's, then -p's container ports, each once.
func Exposed(image, expose []Port, publish []Binding) []Port {
	seen := map[Port]bool{}
	var out []Port
	add := func(p Port) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, ps := range [][]Port{image, expose} {
		for _, p := range ps {
			add(p)
		}
	}
	for _, b := range publish {
		add(b.Container)
	}
	return out
}

// ToPublish lists the container ports to publish: the -p bindings, and
// with -P (all) every exposed port (the image's, then --expose's) not
// already bound, on an ephemeral host port.
func ToPublish(publish []Binding, all bool, image, expose []Port) []Binding {
	bs := append([]Binding(nil), publish...)
	if !all {
		return bs
	}
	seen := map[Port]bool{}
	for _, b := range bs {
		seen[b.Container] = true
	}
	for _, ps := range [][]Port{image, expose} {
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				bs = append(bs, Binding{Container: p})
			}
		}
	}
	return bs
}
