package redact

// vatRule is one accepted VAT number body after the country prefix: a shape
// ('d' digit, 'a' letter, 'x' either, anything else itself) and, where the
// country defines one, its check-digit algorithm over the upper-cased body.
type vatRule struct {
	shape string
	check vatCheck
}

// vatRules covers every EU member state (Greece as EL), Northern Ireland
// (XI), the United Kingdom, Switzerland (CHE) and Norway.
// vatCheck names a check-digit algorithm. (A switch rather than a func
// value: a slice passed through a func value escapes, and the scan must not
// allocate on clean text.)
type vatCheck uint8

const (
	ckNone vatCheck = iota
	ckAT
	ckBE
	ckBE9
	ckBG
	ckCH
	ckCY
	ckCZ
	ckCZ10
	ckDE
	ckDK
	ckEE
	ckEL
	ckES
	ckFI
	ckFR
	ckGB
	ckHR
	ckHU
	ckIE
	ckIEOld
	ckIT
	ckLT
	ckLU
	ckLV
	ckMT
	ckNL
	ckNO
	ckPL
	ckPT
	ckRO
	ckSE
	ckSI
	ckSK
)

var vatRules = map[string][]vatRule{
	"AT": {{"Udddddddd", ckAT}},
	"BE": {{"dddddddddd", ckBE}, {"ddddddddd", ckBE9}},
	"BG": {{"ddddddddd", ckBG}, {"dddddddddd", ckNone}},
	"CY": {{"dddddddda", ckCY}},
	"CZ": {{"dddddddd", ckCZ}, {"ddddddddd", ckNone}, {"dddddddddd", ckCZ10}},
	"DE": {{"ddddddddd", ckDE}},
	"DK": {{"dddddddd", ckDK}},
	"EE": {{"ddddddddd", ckEE}},
	"EL": {{"ddddddddd", ckEL}},
	"GR": {{"ddddddddd", ckEL}},
	"ES": {{"xdddddddx", ckES}},
	"FI": {{"dddddddd", ckFI}},
	"FR": {{"xxddddddddd", ckFR}},
	"HR": {{"ddddddddddd", ckHR}},
	"HU": {{"dddddddd", ckHU}},
	"IE": {{"dddddddaa", ckIE}, {"ddddddda", ckIE}, {"dxddddda", ckIEOld}},
	"IT": {{"ddddddddddd", ckIT}},
	"LT": {{"ddddddddd", ckLT}, {"dddddddddddd", ckLT}},
	"LU": {{"dddddddd", ckLU}},
	"LV": {{"ddddddddddd", ckLV}},
	"MT": {{"dddddddd", ckMT}},
	"NL": {{"dddddddddBdd", ckNL}},
	"PL": {{"dddddddddd", ckPL}},
	"PT": {{"ddddddddd", ckPT}},
	"RO": {{"dddddddddd", ckRO}, {"ddddddddd", ckRO}, {"dddddddd", ckRO}, {"ddddddd", ckRO}, {"dddddd", ckRO}},
	"SE": {{"dddddddddd01", ckSE}},
	"SI": {{"dddddddd", ckSI}},
	"SK": {{"dddddddddd", ckSK}},
	"GB": {{"dddddddddddd", ckGB}, {"ddddddddd", ckGB}, {"GDddd", ckNone}, {"HAddd", ckNone}},
	"XI": {{"dddddddddddd", ckGB}, {"ddddddddd", ckGB}},
	"CH": {{"Eddddddddd", ckCH}},
	"NO": {{"dddddddddMVA", ckNO}, {"ddddddddd", ckNO}},
}

func (k vatCheck) valid(c []byte) bool {
	switch k {
	case ckAT:
		return vatAT(c)
	case ckBE:
		return vatBE(c)
	case ckBE9:
		return vatBE9(c)
	case ckBG:
		return vatBG(c)
	case ckCH:
		return vatCH(c)
	case ckCY:
		return vatCY(c)
	case ckCZ:
		return vatCZ(c)
	case ckCZ10:
		return vatCZ10(c)
	case ckDE:
		return vatDE(c)
	case ckDK:
		return vatDK(c)
	case ckEE:
		return vatEE(c)
	case ckEL:
		return vatEL(c)
	case ckES:
		return vatES(c)
	case ckFI:
		return vatFI(c)
	case ckFR:
		return vatFR(c)
	case ckGB:
		return vatGB(c)
	case ckHR:
		return vatHR(c)
	case ckHU:
		return vatHU(c)
	case ckIE:
		return vatIE(c)
	case ckIEOld:
		return vatIEOld(c)
	case ckIT:
		return vatIT(c)
	case ckLT:
		return vatLT(c)
	case ckLU:
		return vatLU(c)
	case ckLV:
		return vatLV(c)
	case ckMT:
		return vatMT(c)
	case ckNL:
		return vatNL(c)
	case ckNO:
		return vatNO(c)
	case ckPL:
		return vatPL(c)
	case ckPT:
		return vatPT(c)
	case ckRO:
		return vatRO(c)
	case ckSE:
		return vatSE(c)
	case ckSI:
		return vatSI(c)
	case ckSK:
		return vatSK(c)
	}
	return true
}

func dv(c byte) int { return int(c - '0') }

// weighted is Σ c[k]·w[k] over the digits.
func weighted(c []byte, w ...int) int {
	s := 0
	for k, x := range w {
		s += dv(c[k]) * x
	}
	return s
}

func vatAT(c []byte) bool {
	d := c[1:]
	sum := 0
	for k := range 7 {
		v := dv(d[k])
		if k%2 == 1 {
			v *= 2
			v = v/10 + v%10
		}
		sum += v
	}
	return (10-(sum+4)%10)%10 == dv(d[7])
}

func vatBE(c []byte) bool { return c[0] <= '1' && 97-num(c[:8])%97 == num(c[8:]) }
func vatBE9(c []byte) bool {
	var b [10]byte
	b[0] = '0'
	copy(b[1:], c)
	return vatBE(b[:])
}

func vatBG(c []byte) bool {
	r := weighted(c, 1, 2, 3, 4, 5, 6, 7, 8) % 11
	if r == 10 {
		r = weighted(c, 3, 4, 5, 6, 7, 8, 9, 10) % 11 % 10
	}
	return r == dv(c[8])
}

func vatCY(c []byte) bool {
	odd := [...]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21}
	if c[0] == '2' || c[0] == '6' || c[0] == '7' || c[0] == '8' {
		return false
	}
	sum := 0
	for k := range 8 {
		if k%2 == 0 {
			sum += odd[dv(c[k])]
		} else {
			sum += dv(c[k])
		}
	}
	return c[8] == byte('A'+sum%26)
}

func vatCZ(c []byte) bool {
	if c[0] == '9' {
		return false
	}
	a := 11 - weighted(c, 8, 7, 6, 5, 4, 3, 2)%11
	return a%10 == dv(c[7])
}

func vatCZ10(c []byte) bool { return num(c)%11 == 0 }

// mod1110 is ISO 7064 MOD 11,10 over all digits, the last being the check.
func mod1110(c []byte) bool {
	p := 10
	for _, x := range c[:len(c)-1] {
		s := (dv(x) + p) % 10
		if s == 0 {
			s = 10
		}
		p = 2 * s % 11
	}
	return (11-p)%10 == dv(c[len(c)-1])
}

func vatDE(c []byte) bool { return c[0] != '0' && mod1110(c) }
func vatHR(c []byte) bool { return mod1110(c) }

func vatDK(c []byte) bool {
	return c[0] != '0' && weighted(c, 2, 7, 6, 5, 4, 3, 2, 1)%11 == 0
}

func vatEE(c []byte) bool {
	return c[0] == '1' && c[1] == '0' && (10-weighted(c, 3, 7, 1, 3, 7, 1, 3, 7)%10)%10 == dv(c[8])
}

func vatEL(c []byte) bool {
	return weighted(c, 256, 128, 64, 32, 16, 8, 4, 2)%11%10 == dv(c[8])
}

// vatES covers the three Spanish forms: DNI (8 digits and a letter), NIE
// (X/Y/Z, 7 digits and a letter) and CIF (a letter, 7 digits, a digit or letter).
func vatES(c []byte) bool {
	const dni = "TRWAGMYFPDXBNJZSQVHLCKE"
	switch first := c[0]; {
	case isDigit(first) && isUpper(c[8]):
		return dni[num(c[:8])%23] == c[8]
	case first == 'X' || first == 'Y' || first == 'Z':
		if !isUpper(c[8]) {
			return false
		}
		return dni[(int(first-'X')*10000000+num(c[1:8]))%23] == c[8]
	case isUpper(first):
		sum := 0
		for k := 1; k <= 7; k++ {
			v := dv(c[k])
			if k%2 == 1 {
				v *= 2
				v = v/10 + v%10
			}
			sum += v
		}
		ctl := (10 - sum%10) % 10
		return c[8] == byte('0'+ctl) || c[8] == "JABCDEFGHI"[ctl]
	}
	return false
}

func vatFI(c []byte) bool {
	r := weighted(c, 7, 9, 10, 5, 8, 4, 2) % 11
	if r == 1 {
		return false
	}
	return (11-r)%11 == dv(c[7])
}

// vatFR checks the SIREN (Luhn) and, when the two-character key is numeric,
// the key ((12 + 3·(SIREN mod 97)) mod 97).
func vatFR(c []byte) bool {
	if !luhn(c[2:]) {
		return false
	}
	if isDigit(c[0]) && isDigit(c[1]) {
		return (12+3*(num(c[2:])%97))%97 == num(c[:2])
	}
	return true
}

func vatHU(c []byte) bool {
	return (10-weighted(c, 9, 7, 3, 1, 9, 7, 3)%10)%10 == dv(c[7])
}

func ieCheck(d []byte, letter byte, last byte) bool {
	sum := weighted(d, 8, 7, 6, 5, 4, 3, 2)
	if letter >= 'A' && letter <= 'I' {
		sum += int(letter-'A'+1) * 9
	} else if letter != 0 && letter != 'W' {
		return false
	}
	return "WABCDEFGHIJKLMNOPQRSTUV"[sum%23] == last
}

func vatIE(c []byte) bool {
	if len(c) == 9 {
		return ieCheck(c[:7], c[8], c[7])
	}
	return ieCheck(c[:7], 0, c[7])
}

// vatIEOld is the pre-2013 form: digit, letter, five digits, check letter.
func vatIEOld(c []byte) bool {
	if !isUpper(c[1]) {
		return false
	}
	d := []byte{'0', c[2], c[3], c[4], c[5], c[6], c[0]}
	return ieCheck(d, 0, c[7])
}

func vatIT(c []byte) bool { return luhn(c) }

func vatLT(c []byte) bool {
	n := len(c) - 1
	if c[n-1] != '1' {
		return false
	}
	sum := 0
	for k := range n {
		sum += dv(c[k]) * (1 + k%9)
	}
	r := sum % 11
	if r == 10 {
		sum = 0
		for k := range n {
			sum += dv(c[k]) * (1 + (k+2)%9)
		}
		r = sum % 11 % 10
	}
	return r == dv(c[n])
}

func vatLU(c []byte) bool { return num(c[:6])%89 == num(c[6:]) }

// vatLV checks legal entities (first digit above 3); individuals' numbers
// are a birth date and serial with no simple check.
func vatLV(c []byte) bool {
	if c[0] <= '3' {
		return true
	}
	r := 3 - weighted(c, 9, 1, 4, 8, 3, 10, 2, 5, 7, 6)%11
	if r == -1 {
		return false
	}
	if r < -1 {
		r += 11
	}
	return r == dv(c[10])
}

func vatMT(c []byte) bool {
	return 37-weighted(c, 3, 4, 6, 7, 8, 9)%37 == num(c[6:])
}

// vatNL accepts the legacy eleven-test and the 2020 sole-trader mod 97.
func vatNL(c []byte) bool {
	r := weighted(c, 9, 8, 7, 6, 5, 4, 3, 2) % 11
	if r < 10 && r == dv(c[8]) {
		return true
	}
	r = (23*100 + 21) % 97 // "NL"
	for _, x := range c {
		if isDigit(x) {
			r = (r*10 + dv(x)) % 97
		} else {
			r = (r*100 + int(x-'A'+10)) % 97
		}
	}
	return r == 1
}

func vatPL(c []byte) bool {
	r := weighted(c, 6, 5, 7, 2, 3, 4, 5, 6, 7) % 11
	return r < 10 && r == dv(c[9])
}

func vatPT(c []byte) bool {
	r := 11 - weighted(c, 9, 8, 7, 6, 5, 4, 3, 2)%11
	if r >= 10 {
		r = 0
	}
	return r == dv(c[8])
}

func vatRO(c []byte) bool {
	w := [...]int{7, 5, 3, 2, 1, 7, 5, 3, 2}
	n := len(c) - 1
	sum := 0
	for k := range n {
		sum += dv(c[k]) * w[9-n+k]
	}
	return sum*10%11%10 == dv(c[n])
}

func vatSE(c []byte) bool { return luhn(c[:10]) }

func vatSI(c []byte) bool {
	r := 11 - weighted(c, 8, 7, 6, 5, 4, 3, 2)%11
	if r == 11 || c[0] == '0' {
		return false
	}
	return r%10 == dv(c[7])
}

func vatSK(c []byte) bool {
	switch c[2] {
	case '2', '3', '4', '7', '8', '9':
		return c[0] != '0' && num(c)%11 == 0
	}
	return false
}

func vatGB(c []byte) bool {
	t := weighted(c, 8, 7, 6, 5, 4, 3, 2) + num(c[7:9])
	return t%97 == 0 || (t+55)%97 == 0
}

func vatCH(c []byte) bool {
	r := 11 - weighted(c[1:], 5, 4, 3, 2, 7, 6, 5, 4)%11
	if r == 10 {
		return false
	}
	return r%11 == dv(c[9])
}

func vatNO(c []byte) bool {
	r := 11 - weighted(c, 3, 2, 7, 6, 5, 4, 3, 2)%11
	if r == 10 {
		return false
	}
	return r%11 == dv(c[8])
}
