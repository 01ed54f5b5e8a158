package gateway

// LocalReply is an answer a filter sent itself (proxy_send_local_response) instead of the upstream's.
type LocalReply struct {
	Status  int
	Headers [][2]string
	Body    []byte
}

// step is what one callback of the chain released.
type step struct {
	Headers [][2]string // headers after every filter ran (headers callbacks only)
	Data    []byte      // body bytes the chain let through with this call (body callbacks only)
	Reply   *LocalReply // a filter answered locally: stop forwarding and send this
}

// stream is one HTTP exchange through the filter chain. Calls are made in exchange order by one goroutine.
type stream interface {
	requestHeaders(h [][2]string, eos bool) (step, error)
	requestBody(chunk []byte, eos bool) (step, error)
	responseHeaders(h [][2]string, eos bool) (step, error) // h starts with :status
	responseBody(chunk []byte, eos bool) (step, error)
	close()
}

// engine opens streams on a pool of VMs and reports the filters' metrics.
type engine interface {
	open() (stream, error)
	metrics() []Metric
	close()
}

// Metric is one filter metric, summed over the VMs.
type Metric struct {
	Name  string
	Type  string // counter, gauge or histogram
	Value int64
}

// passthrough is the engine of a gateway without filters (the baseline of `make bench`).
type passthrough struct{}

func (passthrough) open() (stream, error) { return passStream{}, nil }
func (passthrough) metrics() []Metric     { return nil }
func (passthrough) close()                {}

type passStream struct{}

func (passStream) requestHeaders(h [][2]string, _ bool) (step, error)  { return step{Headers: h}, nil }
func (passStream) requestBody(b []byte, _ bool) (step, error)          { return step{Data: b}, nil }
func (passStream) responseHeaders(h [][2]string, _ bool) (step, error) { return step{Headers: h}, nil }
func (passStream) responseBody(b []byte, _ bool) (step, error)         { return step{Data: b}, nil }
func (passStream) close()                                              {}
