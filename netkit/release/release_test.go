package release

import "testing"

func TestParse(t *testing.T) {
	for v, want := range map[string]Release{
		"27":             {Era: Era27},
		"28":             {Era: Era28},
		"29":             {Era: Era29},
		"20.10":          {Era: Era27, APIVersion: "1.41"},
		"20.10.24+dfsg1": {Era: Era27, APIVersion: "1.41"},
		"23":             {Era: Era27, APIVersion: "1.42"},
		"24.0.7":         {Era: Era27, APIVersion: "1.43"},
		"27.5.1":         {Era: Era27, APIVersion: "1.47"},
		"28.2.2":         {Era: Era28, APIVersion: "1.50"},
		"28.3":           {Era: Era28, APIVersion: "1.51"},
		"29.1.3":         {Era: Era29, APIVersion: "1.52"},
		"28.9":           {Era: Era28},
	} {
		got, ok := Parse(v)
		if !ok || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "x", "19.03", "20", "20.9", "21", "22.06", "30", "1.41"} {
		if got, ok := Parse(v); ok {
			t.Errorf("Parse(%q) = %+v, want not ok", v, got)
		}
	}
}

func TestParseCLI(t *testing.T) {
	for v, want := range map[string]Era{"20.10.24": Era27, "27": Era27, "28.2.2": Era28, "29": Era29, "31.0": Era29} {
		if got, ok := ParseCLI(v); !ok || got != want {
			t.Errorf("ParseCLI(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := ParseCLI("latest"); ok {
		t.Error(`ParseCLI("latest") is ok`)
	}
}

func TestAPI(t *testing.T) {
	for _, tc := range []struct {
		r    Release
		want int
	}{
		{Release{}, 47},
		{Release{Era: Era28}, 51},
		{Release{Era: Era29}, 52},
		{Release{APIVersion: "1.41"}, 41},
		{Release{Era: Era29, APIVersion: "1.53"}, 52}, // unknown: the era's newest
		{Release{Era: Era(7)}, 47},
	} {
		if got := tc.r.API(); got != tc.want {
			t.Errorf("%+v.API() = %d, want %d", tc.r, got, tc.want)
		}
	}
	if !(Release{APIVersion: "1.41"}).KeepSandbox() || (Release{}).KeepSandbox() {
		t.Error("KeepSandbox is not API 1.41's alone")
	}
	if (Release{Era: Era28}).NFTables() || !(Release{Era: Era29}).NFTables() {
		t.Error("NFTables is not era 29's")
	}
}

func TestEraString(t *testing.T) {
	for e, want := range map[Era]string{Era27: "27", Era28: "28", Era29: "29", Era(5): "Era(5)"} {
		if got := e.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(e), got, want)
		}
	}
}
