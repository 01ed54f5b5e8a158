// Command nergaz writes sdk/pii/internal/ner/gazetteer_gen.go: the word lists the NER tagger uses as features,
// as sorted FNV-1a hashes of lower-cased words with a flag byte each.
//
// Sources: given names, surnames (also those of the celebrity lists), countries, US cities and states, street-name
// words, address units, company suffixes, and common English words (the word lists by part of speech, job
// titles) from github.com/brianvoe/gofakeit/v7's data package (MIT licence, a Go module in go.mod); the
// world city and region names of data/cities.txt and data/regions.txt (GeoNames via datasets/world-cities, CC-BY-4.0,
// see data/SOURCE.md); the common-word, month, honorific, preposition, street-type and organisation-word lists below are written for this
// project. Run: go run ./sdk/pii/cmd/nergaz
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/brianvoe/gofakeit/v7/data"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
)

// Lists written for this project (facts of the language, not taken from a data set).
var (
	common = strings.Fields(`a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just let me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so some such
than that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves please
thanks thank hello hi dear yes ok okay great good new first last next best see note also however therefore
summarise summarize write explain describe translate give make tell show list find create help use read check
answer question example today tomorrow yesterday our here sure sorry well one two three four five six seven
eight nine ten many much every another since though although still even never always often sometimes maybe
early late iron steel engineers history story material materials bridge stone water time year years day days
user assistant system model data text file code error function class return true false null none name names
address email phone number date city country street company team project report meeting customer order account
service support product price payment total subject re fw fwd hey regards best sincerely cheers attached
oh ah ahh uh um hmm wow yeah yep nope oops ouch alas`)
	// names of software, languages, products and services that prompts mention as words, not as people or
	// places
	tech = strings.Fields(`java javascript typescript python perl ruby rust golang kotlin swift scala haskell
lua php sql nosql html css json yaml xml linux unix windows macos ios android ubuntu debian docker kubernetes
helm terraform ansible jenkins git github gitlab bitbucket jira confluence slack zoom teams outlook excel word
powerpoint chrome firefox safari edge opera react angular vue svelte django flask rails spring node nodejs npm
pip conda numpy pandas pytorch tensorflow keras spark hadoop kafka redis postgres postgresql mysql mongodb
sqlite oracle aws azure gcp lambda s3 ec2 openai chatgpt gpt claude gemini llama bard copilot siri alexa
iphone ipad mac macbook pixel galaxy kindle netflix spotify youtube twitter facebook instagram tiktok reddit
wikipedia google bing api sdk cli gui ui ux url http https ssh tcp ip dns vpn cpu gpu ram ssd usb wifi bluetooth
ai ml llm nlp`)
	// country names as people write them (the gofakeit list has the ISO forms: "Lao People's Democratic
	// Republic", "Viet Nam") and the parts of the United Kingdom
	countries = []string{"Laos", "Vietnam", "Russia", "Syria", "Iran", "South Korea", "North Korea", "Korea",
		"Bolivia", "Venezuela", "Tanzania", "Czech Republic", "Czechia", "UK", "USA", "U.S.", "U.K.", "Britain",
		"Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "Holland", "Burma", "Ivory Coast",
		"East Timor", "Swaziland", "Cape Verde", "Macedonia", "Moldova", "Palestine", "Taiwan", "Vatican",
		"Micronesia", "Brunei", "Congo", "Greenland", "Kosovo", "Republic of Ireland", "Emirates", "UAE",
		"United States", "America", "Netherlands", "Philippines", "Bahamas", "Gambia", "Tibet", "Catalonia",
		"Bavaria", "Siberia", "Scandinavia", "Europe", "Asia", "Africa", "Oceania", "Antarctica"}
	months = strings.Fields(`january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday mon tue
wed thu fri sat sun`)
	titles  = strings.Fields(`mr mrs ms miss mx dr prof sir madam dame lord lady rev fr mister doctor professor`)
	preps   = strings.Fields(`in at from to near lives live living lived located moved move visit visited visiting born based via`)
	streets = strings.Fields(`street st avenue ave av road rd boulevard blvd lane ln drive dr court ct place pl square sq
terrace way highway hwy parkway pkwy circle cir crescent close row alley trail plaza path walk crossing route
rue strasse straße str weg gasse platz allee laan straat gracht plein gade vej vägen väg gatan gata veien gate
via viale piazza corso calle carrer avenida av rua travessa ulica ul utca út katu tie cesta ulitsa`)
	units = strings.Fields(`apt apartment suite ste unit box po p.o pmb floor fl room rm building bldg dept
department psc cmr unit apo fpo dpo no`)
	orgs = strings.Fields(`inc incorporated llc ltd limited corp corporation co company group gmbh ag sa sarl bv nv
plc llp lp pty oy ab as kg spa srl holdings partners associates bank university college institute foundation
hospital clinic school academy society association agency labs laboratories technologies systems solutions
services consulting international industries enterprises`)
)

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func main() {
	out := flag.String("o", "sdk/pii/internal/ner/gazetteer_gen.go", "output file")
	dir := flag.String("data", "sdk/pii/cmd/nergaz/data", "folder of cities.txt and regions.txt")
	flag.Parse()
	flags := map[uint32]uint16{}
	words := map[uint32]string{}
	add := func(list []string, f uint16, skipCommon bool) {
		for _, entry := range list {
			for _, t := range ner.Tokenize([]byte(entry), nil) {
				w := entry[t.Start:t.End]
				if len(w) < 2 && f&(ner.GState) == 0 {
					continue
				}
				h := ner.HashLower([]byte(w))
				if skipCommon && flags[h]&ner.GCommon != 0 {
					continue
				}
				if old, ok := words[h]; ok && !strings.EqualFold(old, w) {
					log.Printf("hash collision %q %q", old, w)
				}
				words[h] = strings.ToLower(w)
				flags[h] |= f
			}
		}
	}
	add(common, ner.GCommon, false)
	add(tech, ner.GCommon, false)
	add(months, ner.GMonth, false)
	add(titles, ner.GTitle, false)
	add(preps, ner.GPrep, false)
	add(streets, ner.GStreet, false)
	add(units, ner.GUnit, false)
	add(orgs, ner.GOrg, false)
	wordKeys := make([]string, 0, len(data.Word))
	for k := range data.Word {
		if k != "adjective_proper" {
			wordKeys = append(wordKeys, k)
		}
	}
	sort.Strings(wordKeys)
	for _, k := range wordKeys {
		add(data.Word[k], ner.GCommon, false)
	}
	add(data.Job["title"], ner.GCommon, false)
	add(data.Job["descriptor"], ner.GCommon, false)
	add(data.Job["level"], ner.GCommon, false)
	for _, k := range []string{"actor", "business", "sport"} {
		for _, name := range data.Celebrity[k] {
			f := strings.Fields(name)
			add(f[:1], ner.GFirst, true)
			if len(f) > 1 {
				add(f[len(f)-1:], ner.GLast, true)
			}
		}
	}
	add(data.Person["first"], ner.GFirst, false)
	add(data.Person["middle"], ner.GFirst, false)
	add(data.Person["last"], ner.GLast, false)
	add(data.Person["prefix"], ner.GTitle, false)
	add(data.Address["country"], ner.GCountry, true)
	add(countries, ner.GCountry, true)
	add(data.Address["city"], ner.GCity, true)
	add(data.Address["state"], ner.GState, true)
	add(data.Address["state_abr"], ner.GState, true)
	add(data.Address["street_name"], ner.GStreet, true)
	add(data.Address["street_suffix"], ner.GStreet, true)
	add(data.Address["unit"], ner.GUnit, true)
	add(data.Company["suffix"], ner.GOrg, true)
	add(readLines(filepath.Join(*dir, "cities.txt")), ner.GCity, true)
	add(readLines(filepath.Join(*dir, "regions.txt")), ner.GState, true)

	hs := make([]uint32, 0, len(flags))
	for h := range flags {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(a, b int) bool { return hs[a] < hs[b] })
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./sdk/pii/cmd/nergaz; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "// Sources: github.com/brianvoe/gofakeit/v7 data (MIT; given names, surnames, countries, US cities and\n")
	fmt.Fprintf(&b, "// states, street words, units, company suffixes, common words, job titles), GeoNames world cities\n")
	fmt.Fprintf(&b, "// and regions (CC-BY-4.0, via datasets/world-cities; cmd/nergaz/data/SOURCE.md) and the project's own lists in cmd/nergaz.\n\n")
	fmt.Fprintf(&b, "package ner\n\n// %d words.\nvar gazHash = [...]uint32{", len(hs))
	for i, h := range hs {
		if i%8 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "0x%08x, ", h)
	}
	b.WriteString("\n}\n\nvar gazFlags = [...]uint16{")
	for i, h := range hs {
		if i%16 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d, ", flags[h])
	}
	b.WriteString("\n}\n")
	// The bucket index of gazHash is generated too, not computed by a package initialiser: TinyGo runs
	// initialisers in its compile-time interpreter, and this 46,000-step loop hit its 3-minute limit on a loaded
	// machine.
	fmt.Fprintf(&b, "\n// gazIndexBits: gazIndex[k] is the first position in gazHash of the hashes whose top gazIndexBits bits\n")
	fmt.Fprintf(&b, "// are k (gazHash is sorted), so a lookup scans one short bucket.\nconst gazIndexBits = %d\n\nvar gazIndex = [...]uint32{", gazIndexBits)
	j := 0
	for k := 0; k <= 1<<gazIndexBits; k++ {
		for j < len(hs) && int(hs[j]>>(32-gazIndexBits)) < k {
			j++
		}
		if k%12 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d, ", j)
	}
	b.WriteString("\n}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s: %d words", *out, len(hs))
}

// gazIndexBits is the width of the gazetteer's bucket index (2^13 buckets for ~38,000 words).
const gazIndexBits = 13
