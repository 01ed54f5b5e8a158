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

var tokenTable = func() (t [1 << tokenTableBits]tokenEntry) {
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

func tokenClassOf(tok []byte) uint16 {
	h := fnv(tok)
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

// structureHits counts override and extraction structures in a words buffer (" tok tok | tok ").
func structureHits(words []byte) (override, extraction int) {
	const far = -1 << 20
	i, n := 0, 0
	vo, ro, ve, re := far, far, far, far
	for i < len(words) {
		if words[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(words) && words[j] != ' ' {
			j++
		}
		tok := words[i:j]
		i = j
		if len(tok) == 1 && tok[0] == '|' {
			vo, ro, ve, re = far, far, far, far
			continue
		}
		n++
		if len(tok) < 2 || len(tok) > 14 {
			continue
		}
		cls := tokenClassOf(tok)
		if cls == 0 {
			continue
		}
		if cls&tkOvNoun != 0 && n-ro <= 3 && ro > vo && vo > far {
			override++
			vo, ro = far, far
		}
		if (cls&tkExNoun != 0 && n-re <= 3 && re > ve && ve > far) || (cls&tkExSecret != 0 && n-ve <= 5) {
			extraction++
			ve, re = far, far
		}
		if cls&tkOvRef != 0 && n-vo <= 4 {
			ro = n
		}
		if cls&tkExRef != 0 && n-ve <= 4 {
			re = n
		}
		if cls&tkOvVerb != 0 {
			vo = n
		}
		if cls&tkExVerb != 0 {
			ve = n
		}
	}
	return override, extraction
}
