package seed

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// customer is one caller; the same index always gives the same customer, so repeat
// callers share number, name, email, currency and VIP flag.
type customer struct {
	number, name, email, ref, currency string
	vip                                bool
}

type country struct {
	weight   int
	currency string
	number   func(r *rand.Rand) string
}

var countries = []country{
	{52, "USD", func(r *rand.Rand) string { return "+1" + nanp(r) }},
	{5, "USD", func(r *rand.Rand) string { return "+1" + nanp(r) }}, // Canada, billed in USD
	{15, "GBP", func(r *rand.Rand) string { return "+447" + digits(r, 9) }},
	{8, "EUR", func(r *rand.Rand) string { return "+491" + pick(r, "5", "6", "7") + digits(r, 9) }},
	{7, "EUR", func(r *rand.Rand) string { return "+33" + pick(r, "6", "7") + digits(r, 8) }},
	{3, "EUR", func(r *rand.Rand) string { return "+3538" + pick(r, "3", "5", "6", "7") + digits(r, 7) }},
	{2, "EUR", func(r *rand.Rand) string { return "+316" + digits(r, 8) }},
	{8, "JPY", func(r *rand.Rand) string { return "+81" + pick(r, "70", "80", "90") + digits(r, 8) }},
}

var countryTotal = func() int {
	t := 0
	for _, c := range countries {
		t += c.weight
	}
	return t
}()

// nanp makes a valid-looking North American number: area and exchange codes never
// start with 0 or 1.
func nanp(r *rand.Rand) string {
	return strconv.Itoa(200+r.IntN(800)) + strconv.Itoa(200+r.IntN(800)) + digits(r, 4)
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func pick(r *rand.Rand, s ...string) string { return s[r.IntN(len(s))] }

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func token(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

var firstNames = []string{"Ana", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jonas",
	"Keiko", "Liam", "Maya", "Noah", "Olivia", "Pierre", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Victor",
	"Wen", "Yara", "Zoe", "Aiden", "Bianca", "Carlos", "Dana", "Emeka", "Fiona", "Gustav", "Hannah", "Ivan"}

var lastNames = []string{"Smith", "Okafor", "Müller", "Dubois", "Tanaka", "Garcia", "Murphy", "Kowalski",
	"Nguyen", "Rossi", "Johansson", "Patel", "Silva", "O'Brien", "Schmidt", "Martin", "Sato", "Brown",
	"Lefebvre", "Fischer", "Kelly", "Nakamura", "Wilson", "Moreau", "Jensen", "Cohen", "Haddad", "Novak"}

var companies = []string{"Northwind", "Acme Analytics", "Bluebird Dental", "Cobalt Logistics", "Dunmore Bakery",
	"Evergreen Clinics", "Fjord Studio", "Granite Legal", "Harbor Freight Co", "Ionic Labs", "Juniper Hotels",
	"Kestrel Air", "Lumen Schools", "Meridian Retail", "Nimbus Cloud", "Orchard Farms", "Pioneer Fitness"}

var emailDomains = []string{"gmail.com", "outlook.com", "yahoo.co.jp", "proton.me", "icloud.com", "web.de",
	"orange.fr", "example.org", "example.com"}

// customerAt returns customer i of the run's customer base.
func (g *generator) customerAt(i int) customer {
	r := rng(g.opt.Seed, 2, uint64(i))
	w := r.IntN(countryTotal)
	c := countries[len(countries)-1]
	for _, k := range countries {
		if w < k.weight {
			c = k
			break
		}
		w -= k.weight
	}
	first, last := pick(r, firstNames...), pick(r, lastNames...)
	name := first + " " + last
	local := strings.ToLower(strings.NewReplacer("'", "", "ü", "u", "á", "a").Replace(first + "." + last))
	email := local + strconv.Itoa(r.IntN(100)) + "@" + pick(r, emailDomains...)
	if r.IntN(4) == 0 { // a business customer
		co := pick(r, companies...)
		name = first + " " + last + " (" + co + ")"
		email = strings.ToLower(first) + "@" + strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(co)) + ".example"
	}
	if r.IntN(10) == 0 {
		email = "" // no email on file
	}
	return customer{number: c.number(r), name: name, email: email, ref: "cus_" + token(r, 14),
		currency: c.currency, vip: r.IntN(100) < 3}
}
