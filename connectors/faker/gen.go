package faker

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Every record is rendered from its own small random generator, seeded from
// (seed, stream, id). No record depends on another, so any goroutine can
// render any range of ids and the bytes come out the same.

type rng struct{ s uint64 }

// Stream salts keep the three streams' random sequences apart.
const (
	saltProducts  = 0x70726f6475637473
	saltUsers     = 0x7573657273000000
	saltPurchases = 0x7075726368617365
)

func newRNG(seed, salt uint64, id int64) rng {
	r := rng{s: seed*0x9e3779b97f4a7c15 ^ salt ^ uint64(id)*0xd1342543de82ef95}
	r.next() // one round so neighbouring ids diverge at once
	return r
}

// next is splitmix64: tiny state, good statistics, a few ns per value.
func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a value in [0, n) for 0 < n < 2^32 (Lemire's reduction, no
// division).
func (r *rng) intn(n int64) int64 { return int64(((r.next() >> 32) * uint64(n)) >> 32) }

func (r *rng) pick(list [][]byte) []byte { return list[r.intn(int64(len(list)))] }

// The window of generated timestamps: 2000-01-01 to 2026-01-01 UTC.
const (
	t2000 = 946684800
	t2026 = 1767225600
	day   = 86400
)

// appendTime appends unix seconds t as RFC 3339 with an explicit zone
// ("2004-10-28T02:16:07+00:00", as source-faker writes it). It does the civil
// calendar arithmetic itself because time.Format is several times slower.
func appendTime(b []byte, t int64) []byte {
	days, secs := t/day, t%day
	if secs < 0 {
		days, secs = days-1, secs+day
	}
	// Howard Hinnant's civil_from_days.
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	return append(b, "+00:00"...)
}

func append2(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// fieldAll renders `,"key":"word"` for every word once, at start-up.
func fieldAll(key string, words []string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		q, err := json.Marshal(w)
		if err != nil {
			panic(err)
		}
		out[i] = append([]byte(`,"`+key+`":`), q...)
	}
	return out
}

var (
	// Whole `,"key":"value"` fragments: one copy per field on the hot path.
	fTitles      = fieldAll("title", titles)
	fGenders     = fieldAll("gender", genders)
	fLanguages   = fieldAll("language", languages)
	fDegrees     = fieldAll("academic_degree", degrees)
	fNationality = fieldAll("nationality", nationalities)
	fOccupations = fieldAll("occupation", occupations)
	fBlood       = fieldAll("blood_type", bloodTypes)
	fCities      = fieldAll("city", cities)
	fStates      = fieldAll("state", states)
	fProvinces   = fieldAll("province", states)
	fCountries   = fieldAll("country_code", countryCodes)
	bFirst       = bytesAll(firstNames)
	// Unquoted, because they are joined with other text inside one string.
	bLast     = bytesAll(lastNames)
	bWords    = bytesAll(emailWords)
	bDomains  = bytesAll(emailDomains)
	bStreets  = bytesAll(streetNames)
	bSuffixes = bytesAll(streetSuffixes)
)

func bytesAll(words []string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, "\"\\") || strings.ContainsFunc(w, func(r rune) bool { return r < ' ' || r > '~' }) {
			panic("faker: word list entry needs JSON escaping: " + w)
		}
		out[i] = []byte(w)
	}
	return out
}

var phoneFormats = [][]byte{
	[]byte("(ddd) ddd-dddd"), []byte("ddd.ddd.dddd"), []byte("+1-(ddd)-ddd-dddd"),
	[]byte("ddd-ddd-dddd"), []byte("1-ddd-ddd-dddd"),
}

// gen renders records for one read.
type gen struct {
	seed uint64
	// fresh is the quoted updated_at every record gets when always_updated
	// is on; nil means each record's own deterministic updated_at.
	fresh     []byte
	freshUnix int64
	nProducts int64
}

// appendUpdated appends the updated_at value (quoted) and returns the
// instant it stands for. The deterministic value is drawn even when fresh
// is used so that every other field is the same either way.
func (g *gen) appendUpdated(b []byte, r *rng, created, max int64) ([]byte, int64) {
	upd := created + r.intn(max-created+1)
	if g.fresh != nil {
		return append(b, g.fresh...), g.freshUnix
	}
	b = append(b, '"')
	b = appendTime(b, upd)
	return append(b, '"'), upd
}

// user appends the data object of user id and returns its updated_at.
func (g *gen) user(b []byte, id int64) ([]byte, int64) {
	r := newRNG(g.seed, saltUsers, id)
	created := t2000 + r.intn(t2026-t2000-30*day)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"created_at":"`...)
	b = appendTime(b, created)
	b = append(b, `","updated_at":`...)
	b, upd := g.appendUpdated(b, &r, created, t2026)
	b = append(b, `,"name":"`...)
	b = append(b, r.pick(bFirst)...)
	b = append(b, ' ')
	b = append(b, r.pick(bLast)...)
	b = append(b, '"')
	b = append(b, r.pick(fTitles)...)
	b = append(b, `,"age":`...)
	b = strconv.AppendInt(b, 18+r.intn(63), 10)
	b = append(b, `,"email":"`...)
	b = append(b, r.pick(bWords)...)
	b = strconv.AppendInt(b, 1900+r.intn(130), 10)
	b = append(b, '+')
	b = strconv.AppendInt(b, id, 10) // the id makes every email unique
	b = append(b, '@')
	b = append(b, r.pick(bDomains)...)
	b = append(b, `","telephone":"`...)
	b = appendPhone(b, &r)
	b = append(b, '"')
	b = append(b, r.pick(fGenders)...)
	b = append(b, r.pick(fLanguages)...)
	b = append(b, r.pick(fDegrees)...)
	b = append(b, r.pick(fNationality)...)
	b = append(b, r.pick(fOccupations)...)
	b = append(b, `,"height":"`...)
	cm := 150 + r.intn(56)
	b = append(b, byte('0'+cm/100), '.')
	b = append2(b, cm%100)
	b = append(b, '"')
	b = append(b, r.pick(fBlood)...)
	b = append(b, `,"weight":`...)
	b = strconv.AppendInt(b, 45+r.intn(76), 10)
	b = append(b, `,"address":{"street_number":"`...)
	b = strconv.AppendInt(b, 1+r.intn(9999), 10)
	b = append(b, `","street_name":"`...)
	b = append(b, r.pick(bStreets)...)
	b = append(b, ' ')
	b = append(b, r.pick(bSuffixes)...)
	b = append(b, '"')
	b = append(b, r.pick(fCities)...)
	b = append(b, r.pick(fStates)...)
	b = append(b, r.pick(fProvinces)...)
	b = append(b, `,"postal_code":"`...)
	zip := r.intn(100000)
	b = append(b, byte('0'+zip/10000), byte('0'+zip/1000%10), byte('0'+zip/100%10), byte('0'+zip/10%10), byte('0'+zip%10))
	b = append(b, '"')
	b = append(b, r.pick(fCountries)...)
	return append(b, "}}"...), upd
}

func appendPhone(b []byte, r *rng) []byte {
	f := r.pick(phoneFormats)
	n := r.next() % 10_000_000_000
	var digits [10]byte
	for i := 9; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	k := 0
	for _, c := range f {
		if c == 'd' {
			c = digits[k]
			k++
		}
		b = append(b, c)
	}
	return b
}

// purchaseSlots maps the ten purchases of a block of ten users to the
// user's index in the block: as in source-faker, the user at index 6 buys
// nothing and the one at index 8 buys twice.
var purchaseSlots = [10]int64{0, 1, 2, 3, 4, 5, 7, 8, 8, 9}

// purchaseUser returns the id of the user who made purchase id.
func purchaseUser(id int64) int64 {
	return (id-1)/10*10 + purchaseSlots[(id-1)%10] + 1
}

// purchaseCount is how many purchases count users make.
func purchaseCount(count int64) int64 {
	n := count / 10 * 10
	for _, s := range purchaseSlots {
		if s < count%10 {
			n++
		}
	}
	return n
}

// purchase appends the data object of purchase id and returns its updated_at.
func (g *gen) purchase(b []byte, id int64) ([]byte, int64) {
	r := newRNG(g.seed, saltPurchases, id)
	created := t2000 + r.intn(t2026-t2000-400*day)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"product_id":`...)
	b = strconv.AppendInt(b, 1+r.intn(g.nProducts), 10)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, purchaseUser(id), 10)
	b = append(b, `,"created_at":"`...)
	b = appendTime(b, created)
	b = append(b, `","updated_at":`...)
	b, upd := g.appendUpdated(b, &r, created+400*day, t2026)
	// A purchase moves through the cart, maybe the checkout, maybe a return;
	// each step happens after the previous one.
	cart := created + r.intn(300*day)
	b = append(b, `,"added_to_cart_at":"`...)
	b = appendTime(b, cart)
	b = append(b, `","purchased_at":`...)
	bought := cart + r.intn(60*day)
	returned := bought + r.intn(30*day)
	roll := r.intn(100)
	if roll < 75 {
		b = append(b, '"')
		b = appendTime(b, bought)
		b = append(b, `","returned_at":`...)
		if roll < 8 {
			b = append(b, '"')
			b = appendTime(b, returned)
			b = append(b, '"')
		} else {
			b = append(b, "null"...)
		}
	} else {
		b = append(b, `null,"returned_at":null`...)
	}
	return append(b, '}'), upd
}

// product is one car of products.json, its data object pre-rendered up to
// the updated_at value.
type product struct {
	head    []byte
	created int64
}

var products = loadProducts()

func loadProducts() []product {
	var raw []struct {
		ID        int64       `json:"id"`
		Make      string      `json:"make"`
		Model     string      `json:"model"`
		Year      int64       `json:"year"`
		Price     json.Number `json:"price"`
		CreatedAt string      `json:"created_at"`
	}
	if err := json.Unmarshal(mustRead("products.json"), &raw); err != nil {
		panic("faker: embedded products.json: " + err.Error())
	}
	out := make([]product, len(raw))
	for i, p := range raw {
		// One entry of source-faker's list has a space for the "T"; the
		// output is normalised to RFC 3339 either way.
		created, err := time.Parse(time.RFC3339, strings.Replace(p.CreatedAt, " ", "T", 1))
		if err != nil {
			panic(fmt.Sprintf("faker: embedded products.json: product %d: %v", p.ID, err))
		}
		mk, _ := json.Marshal(p.Make)
		model, _ := json.Marshal(p.Model)
		h := fmt.Appendf(nil, `{"id":%d,"make":%s,"model":%s,"year":%d,"price":%s,"created_at":"`, p.ID, mk, model, p.Year, p.Price)
		h = appendTime(h, created.Unix())
		h = append(h, `","updated_at":`...)
		out[i] = product{head: h, created: created.Unix()}
	}
	return out
}

// product appends the data object of product id (1-based) and returns its
// updated_at.
func (g *gen) product(b []byte, id int64) ([]byte, int64) {
	p := &products[id-1]
	r := newRNG(g.seed, saltProducts, id)
	b = append(b, p.head...)
	b, upd := g.appendUpdated(b, &r, p.created, t2026)
	return append(b, '}'), upd
}
