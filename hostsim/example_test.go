package hostsim_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/wasmguard/wasmguard/hostsim"
)

// buildExamplePlugin builds hostsim/testdata/plugins/<name> the way `make build` builds
// a filter. Filter tests use hostsim.DistWasm(t, "<filter>") instead.
func buildExamplePlugin(name string) []byte {
	out := filepath.Join(os.TempDir(), "hostsim-example-"+name+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/plugins/"+name)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build %s: %v\n%s", name, err, msg))
	}
	defer os.Remove(out)
	b, err := os.ReadFile(out)
	if err != nil {
		panic(err)
	}
	return b
}

// A filter test in three steps: start a Host with the real .wasm, send a request
// through it, assert on what the upstream and the client saw. The conformance test
// plugin blocks bodies containing "evil" when the request carries x-act: deny-body.
func Example() {
	h, err := hostsim.Start(hostsim.Config{
		Profile: hostsim.ProfileEnvoy, // the default: Envoy >= 1.33 (cpp-host #427)
		Plugins: []hostsim.PluginSpec{{Name: "guard", Wasm: buildExamplePlugin("conformance")}},
	})
	if err != nil {
		panic(err) // in a test: h := hostsim.New(t, cfg) fails the test instead
	}
	defer h.Close()

	res := h.Do(hostsim.Request{
		Path:      "/v1/chat/completions",
		Headers:   [][2]string{{"content-type", "application/json"}, {"x-act", "deny-body"}},
		Body:      []byte(`{"messages":[{"role":"user","content":"something evil"}]}`),
		ChunkSize: 8, // the plugin sees the body in 8-byte chunks, cumulatively while it pauses
	}, hostsim.Response{Status: 200, Body: []byte(`{"choices":[]}`)})

	fmt.Println("status:", res.Status, string(res.Body))
	fmt.Println("local reply:", res.LocalReply, "by", res.LocalReplyPlugin)
	fmt.Println("upstream got the request:", res.Upstream != nil)
	fmt.Println("upstream saw the headers:", res.UpstreamHeadersSent)
	fmt.Println("last body action:", res.Action("guard", "proxy_on_request_body"))
	// Output:
	// status: 403 blocked
	// local reply: true by guard
	// upstream got the request: false
	// upstream saw the headers: true
	// last body action: 1
}
