package money

import "strings"

// exponents holds the minor-unit exponent of every active currency that has one,
// as Stripe's API counts it, so that an amount parsed from a call is the integer
// Stripe moves (https://docs.stripe.com/currencies). Where Stripe differs from ISO
// 4217, Stripe wins: MGA is zero-decimal at Stripe (ISO: 2), ISK is two-decimal in
// Stripe's API (ISO: 0; see multiples). Codes ISO lists as "N.A." (XAU, XDR, XTS,
// ...) are left out on purpose: an amount in them cannot be stored as integer
// minor units.
var exponents = map[string]int{
	// Zero-decimal at Stripe (and ISO, except MGA).
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"MGA": 0, "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0,
	"XOF": 0, "XPF": 0,
	// No minor unit in ISO; Stripe does not process it.
	"UYI": 0,
	// Two decimals in Stripe's API, whole krónur only (multiples of 100).
	"ISK": 2,

	// Three decimals.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,

	// Four decimals (units of account).
	"CLF": 4, "UYW": 4,

	// Two decimals.
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2,
	"AUD": 2, "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2,
	"BMD": 2, "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2,
	"BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2,
	"CHW": 2, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUP": 2, "CVE": 2,
	"CZK": 2, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
	"EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2,
	"GMD": 2, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IRR": 2, "JMD": 2, "KES": 2, "KGS": 2,
	"KHR": 2, "KPW": 2, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2,
	"LRD": 2, "LSL": 2, "MAD": 2, "MDL": 2, "MKD": 2, "MMK": 2,
	"MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2,
	"MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2,
	"NPR": 2, "NZD": 2, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2,
	"PLN": 2, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "SAR": 2, "SBD": 2,
	"SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2,
	"SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2,
	"TJS": 2, "TMT": 2, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
	"UAH": 2, "USD": 2, "USN": 2, "UYU": 2, "UZS": 2, "VED": 2, "VES": 2,
	"WST": 2, "XCD": 2, "XCG": 2, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// multiples holds the currencies whose amounts Stripe accepts only in steps of
// more than one minor unit: the three-decimal currencies must end in 0 (Stripe's
// payment partners take no fils finer than a hundredth of a dinar), and ISK
// amounts must be whole krónur (Stripe error invalid_charge_amount_no_decimal_compatible).
// HUF and TWD are two-decimal for charges and refunds (only payouts must be whole
// units, which Countersign never creates); UGX is zero-decimal.
var multiples = map[string]int64{
	"BHD": 10, "JOD": 10, "KWD": 10, "OMR": 10, "TND": 10,
	"ISK": 100,
}

// Step is the smallest amount step, in minor units, Stripe accepts for currency
// (10 for BHD, 100 for ISK, 1 otherwise).
func Step(currency string) int64 {
	if m, ok := multiples[normCurrency(currency)]; ok {
		return m
	}
	return 1
}

// Exponent reports how many decimal places the minor unit of currency has
// (USD 2, JPY 0, KWD 3), as Stripe's API counts it (MGA 0, ISK 2). The code is matched case-insensitively after trimming
// spaces; ok is false for unknown codes and for codes ISO 4217 gives no
// exponent ("N.A.": gold, SDR, test codes).
func Exponent(currency string) (exp int, ok bool) {
	exp, ok = exponents[normCurrency(currency)]
	return exp, ok
}

// normCurrency upper-cases and trims a currency code.
func normCurrency(c string) string {
	return strings.ToUpper(strings.TrimSpace(c))
}
