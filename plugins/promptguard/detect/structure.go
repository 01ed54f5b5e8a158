package detect

// A small grammar over canonical word tokens catches the many wordings of the two core attacks that fixed
// phrase lists miss: an override verb, then (within a few words) a reference to earlier text, then an
// instruction noun ("disregard the directions above" ... "skip all of the earlier guidance"), and a disclosure
// verb, then a possessive or qualifier, then a secret noun ("print your hidden rules", "display system
// configuration", "tell me the passcode").

const (
	tkOvVerb   uint16 = 1 << iota // ignore, disregard, forget ...
	tkOvRef                       // previous, above, prior, your, all ...
	tkOvNoun                      // instructions, directions, rules ...
	tkExVerb                      // reveal, print, repeat ...
	tkExRef                       // your, the, system, hidden ...
	tkExNoun                      // prompt, instructions, rules ...
	tkExSecret                    // password, passcode, credentials ...: no qualifier needed
)

var tokenWords = map[uint16][]string{
	tkOvVerb: {"ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overwrite",
		"bypass", "skip", "neglect", "discard", "abandon", "drop", "dismiss", "cancel", "void", "erase", "delete",
		"reset", "nevermind", "unlearn", "ignora", "ignorar", "ignore", "ignorez", "ignorer", "olvida", "olvidar",
		"oublie", "oubliez", "ignoriere", "ignorieren", "vergiss", "vergessen", "dimentica", "dimenticare",
		"esqueca", "esquecer", "ignorare"},
	tkOvRef: {"previous", "prior", "above", "earlier", "preceding", "foregoing", "former", "original", "initial",
		"old", "existing", "current", "system", "all", "any", "every", "your", "these", "those", "the", "its",
		"anteriores", "anterior", "precedentes", "precedente", "vorherigen", "vorherige", "bisherigen", "obigen",
		"precedenti", "sistema", "todas", "toutes", "alle", "tutte", "deine", "tus", "tes", "vos", "suas"},
	tkOvNoun: {"instruction", "instructions", "direction", "directions", "rule", "rules", "guideline",
		"guidelines", "prompt", "prompts", "command", "commands", "directive", "directives", "order", "orders",
		"context", "constraints", "restrictions", "programming", "guidance", "training", "policies", "policy",
		"settings", "messages", "text", "conversation", "instrucciones", "indicaciones", "reglas", "consignes",
		"regles", "anweisungen", "regeln", "istruzioni", "regole", "instrucoes", "regras"},
	tkExVerb: {"reveal", "show", "print", "output", "repeat", "tell", "display", "give", "share", "leak", "dump",
		"list", "spell", "recite", "disclose", "expose", "provide", "return", "echo", "write", "type", "paste",
		"copy", "translate", "encode", "summarize", "summarise", "what", "whats", "revela", "muestra", "dime",
		"revele", "montre", "affiche", "zeig", "zeige", "verrate", "gib", "mostra", "rivela", "dimmi", "mostre",
		"diga"},
	tkExRef: {"your", "system", "hidden", "secret", "initial", "original", "full", "entire", "exact",
		"internal", "confidential", "above", "previous", "my", "admin", "developer", "tu", "tus", "ton", "tes",
		"votre", "vos", "dein", "deine", "il", "tuo", "tuoi", "seu", "suas", "sistema", "systeme"},
	tkExNoun: {"prompt", "prompts", "instructions", "rules", "guidelines", "configuration", "directives",
		"preprompt", "instrucciones", "consignes", "anweisungen", "istruzioni", "instrucoes"},
	tkExSecret: {"password", "passwords", "passcode", "passphrase", "credentials", "contrasena", "passwort",
		"senha", "mot"},
}

// tokenTable is an open-addressing table from FNV hash to (word, classes): cheaper than a Go map inside wasm.
type tokenEntry struct {
	hash uint32
	word string
	cls  uint16
}

const tokenTableBits = 10

// It is built behind a pointer: a 1024-entry array returned by value becomes a 4,000-local function in
// TinyGo's output that wasm-opt -Oz needs over ten minutes and 5 GB to optimise.
var tokenTable = func() *[1 << tokenTableBits]tokenEntry {
	t := new([1 << tokenTableBits]tokenEntry)
	merged := map[string]uint16{}
	for cls, words := range tokenWords {
		for _, w := range words {
			merged[w] |= cls
		}
	}
	for w, cls := range merged {
		h := fnv([]byte(w))
		for i := h; ; i++ {
			e := &t[i&(1<<tokenTableBits-1)]
			if e.word == "" {
				*e = tokenEntry{hash: h, word: w, cls: cls}
				break
			}
		}
	}
	return t
}()

// tokenClassHash is the class of a token whose FNV hash h is already computed.
func tokenClassHash(tok []byte, h uint32) uint16 {
	for i := h; ; i++ {
		e := &tokenTable[i&(1<<tokenTableBits-1)]
		if e.word == "" {
			return 0
		}
		if e.hash == h && e.word == string(tok) {
			return e.cls
		}
	}
}

// grammar is the state of the override/extraction grammar while the tokens of a words buffer stream past
// (hashNgrams drives it, so the text is tokenised and hashed once).
type grammar struct {
	n, vo, ro, ve, re    int
	override, extraction int
}

const far = -1 << 20

func (g *grammar) reset() { g.vo, g.ro, g.ve, g.re = far, far, far, far }

// token feeds one token with its FNV hash (h is only used for tokens of 2..14 bytes).
func (g *grammar) token(tok []byte, h uint32) {
	g.n++
	if len(tok) < 2 || len(tok) > 14 {
		return
	}
	cls := tokenClassHash(tok, h)
	if cls == 0 {
		return
	}
	n := g.n
	if cls&tkOvNoun != 0 && n-g.ro <= 3 && g.ro > g.vo && g.vo > far {
		g.override++
		g.vo, g.ro = far, far
	}
	if (cls&tkExNoun != 0 && n-g.re <= 3 && g.re > g.ve && g.ve > far) || (cls&tkExSecret != 0 && n-g.ve <= 5) {
		g.extraction++
		g.ve, g.re = far, far
	}
	if cls&tkOvRef != 0 && n-g.vo <= 4 {
		g.ro = n
	}
	if cls&tkExRef != 0 && n-g.ve <= 4 {
		g.re = n
	}
	if cls&tkOvVerb != 0 {
		g.vo = n
	}
	if cls&tkExVerb != 0 {
		g.ve = n
	}
}
