package budget

import "time"

// Plan is the accounting of one request across all its counters: what was reserved on each, and the
// deltas to apply when the real usage is known. The filter keeps one per HTTP stream.
type Plan struct {
	defs  []Def
	Slots []Slot
	Price Price
	// Input is the estimated input tokens (margin included); Output the output tokens reserved.
	Input, Output int64
	// Charged is, per slot, the amount currently charged (reserved, extended, settled).
	Charged []int64
	// Used is, per slot, the amount the counter had used right after this request's reservation (nil
	// until a reservation succeeded); it feeds the x-ratelimit-remaining-tokens header.
	Used []int64
	conc []Counter
	// LocalHeld and ClusterHeld say whether the local / cluster reservations are in force.
	LocalHeld, ClusterHeld bool
	concHeld               bool
	settled                bool
}

// Denial says which counter refused a request.
type Denial struct {
	// Slot is the index in Plan.Slots of the refusing counter; -1 when the concurrency cap refused.
	Slot int
	// Used is the amount the refusing counter had already used.
	Used int64
}

// NewPlan builds the plan of a request with input estimated input tokens and output reserved output
// tokens. parts[i] are the key parts of defs[i] (nil when the budget does not apply).
func NewPlan(prefix string, defs []Def, parts [][]string, now time.Time, price Price, input, output int64) *Plan {
	p := &Plan{defs: defs, Slots: Slots(prefix, defs, parts, now), Price: price, Input: input, Output: output}
	for i := range defs {
		if parts[i] != nil && defs[i].MaxConcurrent > 0 {
			p.conc = append(p.conc, ConcurrencyCounter(prefix, &defs[i], parts[i]))
		}
	}
	p.Charged = make([]int64, len(p.Slots))
	return p
}

// Metric returns the metric of slot i.
func (p *Plan) Metric(i int) Metric { return p.defs[p.Slots[i].Budget].Metric }

// Def returns the budget of slot i.
func (p *Plan) Def(i int) *Def { return &p.defs[p.Slots[i].Budget] }

func (p *Plan) amount(i int, t Tokens) int64 { return Amount(p.Metric(i), t, p.Price) }

// HasCluster reports whether any slot is cluster-wide.
func (p *Plan) HasCluster() bool {
	for _, s := range p.Slots {
		if s.Cluster != "" {
			return true
		}
	}
	return false
}

// LocalRoom returns how many output tokens still fit in every local counter after the input is charged
// (-1 when no local counter limits output).
func (p *Plan) LocalRoom(s Store) (int64, error) {
	room := int64(-1)
	for i, sl := range p.Slots {
		if sl.Cluster != "" {
			continue
		}
		used, err := Used(s, sl.Counter)
		if err != nil {
			return 0, err
		}
		r := OutputRoom(p.Metric(i), sl.Counter.Limit-used, p.Input, p.Price)
		if r >= 0 && (room < 0 || r < room) {
			room = r
		}
	}
	return room, nil
}

// ReserveLocal takes the concurrency slots, then reserves input+output on every local counter. On refusal
// nothing stays reserved and the Denial names the counter.
func (p *Plan) ReserveLocal(s Store) (bool, Denial, error) {
	if len(p.conc) > 0 {
		ones := make([]int64, len(p.conc))
		for i := range ones {
			ones[i] = 1
		}
		r, err := Reserve(s, p.conc, ones)
		if err != nil {
			return false, Denial{}, err
		}
		if !r.Allowed {
			return false, Denial{Slot: -1, Used: r.Used[r.Denied]}, nil
		}
		p.concHeld = true
	}
	var cs []Counter
	var amts []int64
	var idx []int
	t := Tokens{Input: p.Input, Output: p.Output}
	for i, sl := range p.Slots {
		if sl.Cluster != "" {
			continue
		}
		cs = append(cs, sl.Counter)
		amts = append(amts, p.amount(i, t))
		idx = append(idx, i)
	}
	if len(cs) == 0 {
		return true, Denial{}, nil
	}
	r, err := Reserve(s, cs, amts)
	if err != nil || !r.Allowed {
		p.releaseConc(s)
		if err != nil {
			return false, Denial{}, err
		}
		return false, Denial{Slot: idx[r.Denied], Used: r.Used[r.Denied]}, nil
	}
	p.Used = make([]int64, len(p.Slots))
	for k, i := range idx {
		p.Charged[i] = amts[k]
		p.Used[i] = r.Used[k]
	}
	p.LocalHeld = true
	return true, Denial{}, nil
}

// ClusterCounters lists the cluster slots to reserve with ReserveCommand, and their slot indexes.
func (p *Plan) ClusterCounters() ([]ClusterCounter, []int) {
	var cs []ClusterCounter
	var idx []int
	t := Tokens{Input: p.Input, Output: p.Output}
	for i, sl := range p.Slots {
		if sl.Cluster == "" {
			continue
		}
		cs = append(cs, ClusterCounter{Key: sl.Cluster, Limit: sl.Counter.Limit, Amount: p.amount(i, t), TTL: sl.TTL})
		idx = append(idx, i)
	}
	return cs, idx
}

// ClusterReserved records that the engine accepted the reservation of the cluster slots; used is the
// engine's answer (used amount per cluster counter, in ClusterCounters order).
func (p *Plan) ClusterReserved(used []int64) {
	t := Tokens{Input: p.Input, Output: p.Output}
	if p.Used == nil {
		p.Used = make([]int64, len(p.Slots))
	}
	k := 0
	for i, sl := range p.Slots {
		if sl.Cluster != "" {
			p.Charged[i] = p.amount(i, t)
			if k < len(used) {
				p.Used[i] = used[k]
			}
			k++
		}
	}
	p.ClusterHeld = true
}

// Extend charges extra output tokens on top of the reservation, for a stream that outgrew it. Local
// counters must have room (hard limit); cluster counters are charged through pend without a check (the
// engine cannot be asked synchronously mid-stream). It returns false, charging nothing, when a local
// counter has no room.
func (p *Plan) Extend(s Store, pend *Pending, extra int64) (bool, error) {
	if extra <= 0 {
		return true, nil
	}
	before := Tokens{Input: p.Input, Output: p.Output}
	after := Tokens{Input: p.Input, Output: p.Output + extra}
	var cs []Counter
	var amts []int64
	var idx []int
	for i, sl := range p.Slots {
		if sl.Cluster != "" || !p.LocalHeld {
			continue
		}
		cs = append(cs, sl.Counter)
		amts = append(amts, p.amount(i, after)-p.amount(i, before))
		idx = append(idx, i)
	}
	if len(cs) > 0 {
		r, err := Reserve(s, cs, amts)
		if err != nil {
			return false, err
		}
		if !r.Allowed {
			return false, nil
		}
		for k, i := range idx {
			p.Charged[i] += amts[k]
		}
	}
	if p.ClusterHeld && pend != nil {
		for i, sl := range p.Slots {
			if sl.Cluster != "" {
				d := p.amount(i, after) - p.amount(i, before)
				pend.Add(sl.Cluster, d)
				p.Charged[i] += d
			}
		}
	}
	p.Output += extra
	return true, nil
}

// Settle reconciles the plan with the real usage: each counter gets actual − charged (a refund when
// negative), local ones at once, cluster ones through pend (flushed later in one command); the
// concurrency slots are released. It is idempotent.
func (p *Plan) Settle(s Store, pend *Pending, actual Tokens) error {
	if p.settled {
		return nil
	}
	p.settled = true
	var firstErr error
	for i, sl := range p.Slots {
		held := p.LocalHeld
		if sl.Cluster != "" {
			held = p.ClusterHeld
		}
		if !held {
			continue
		}
		delta := p.amount(i, actual) - p.Charged[i]
		p.Charged[i] += delta
		if sl.Cluster != "" {
			if pend != nil {
				pend.Add(sl.Cluster, delta)
			}
			continue
		}
		if err := Adjust(s, sl.Counter, delta); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	p.releaseConc(s)
	return firstErr
}

// Release cancels every reservation of the plan (a request refused by the engine after its local
// reservation, or never forwarded).
func (p *Plan) Release(s Store, pend *Pending) error {
	return p.Settle(s, pend, Tokens{})
}

func (p *Plan) releaseConc(s Store) {
	if !p.concHeld {
		return
	}
	p.concHeld = false
	for _, c := range p.conc {
		_ = Adjust(s, c, -1)
	}
}
