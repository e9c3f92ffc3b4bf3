package stripefake

import (
	"net/http"
	"regexp"
	"strings"
)

// Customer returns a copy of a customer's current state.
func (f *Fake) Customer(id string) (Customer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok {
		return Customer{}, false
	}
	cp := *c
	cp.Address = maps(c.Address)
	cp.TaxIDs = append([]TaxID(nil), c.TaxIDs...)
	return cp, true
}

var addressFields = map[string]bool{"line1": true, "line2": true, "city": true, "postal_code": true, "state": true, "country": true}

// updateCustomer: POST /v1/customers/{id}. Only the address (and metadata,
// name, email) is accepted; Stripe refuses unknown address keys.
func (f *Fake) updateCustomer(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !checkParams(w, form, "address[", "name", "email", "metadata[", "expand[") {
		return
	}
	addr := nested(form, "address")
	for k := range addr {
		if !addressFields[k] {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_unknown",
				"Received unknown parameter: address["+k+"]", "address["+k+"]")
			return
		}
	}
	if c := addr["country"]; c != "" && !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(c) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "country_unsupported",
			"Country '"+c+"' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'.", "address[country]")
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok {
		notFound(w, "customer", id, "id")
		return
	}
	if len(addr) > 0 {
		c.Address = addr // Stripe replaces the address hash as a whole
	}
	if v := form.Get("name"); v != "" {
		c.Name = v
	}
	if v := form.Get("email"); v != "" {
		c.Email = v
	}
	writeJSON(w, http.StatusOK, customerJSON(c))
}

// taxFormats are the tax id types the fake knows, with the value shape Stripe
// validates; any other type is refused as Stripe refuses an unknown enum value.
var taxFormats = map[string]*regexp.Regexp{
	"eu_vat": regexp.MustCompile(`^(AT|BE|BG|CY|CZ|DE|DK|EE|ES|FI|FR|GR|EL|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)[0-9A-Z]{8,12}$`),
	"gb_vat": regexp.MustCompile(`^GB[0-9]{9}([0-9]{3})?$`),
	"ch_vat": regexp.MustCompile(`^CHE[0-9]{9}(MWST|TVA|IVA)$`),
	"no_vat": regexp.MustCompile(`^[0-9]{9}MVA$`),
	"au_abn": regexp.MustCompile(`^[0-9]{11}$`),
	"us_ein": regexp.MustCompile(`^[0-9]{2}-[0-9]{7}$`),
	"ca_bn":  regexp.MustCompile(`^[0-9]{9}$`),
}

func taxIDJSON(customer string, t TaxID) map[string]any {
	country := ""
	if len(t.Value) >= 2 && t.Type == "eu_vat" {
		country = t.Value[:2]
	}
	return map[string]any{"id": t.ID, "object": "tax_id", "customer": customer, "type": t.Type, "value": t.Value,
		"country": null(country), "livemode": false,
		"owner":        map[string]any{"type": "customer", "customer": customer},
		"verification": map[string]any{"status": "pending", "verified_address": nil, "verified_name": nil}}
}

// createTaxID: POST /v1/customers/{id}/tax_ids with type and value. Stripe
// adds a second tax id with the same value if asked: callers look first.
func (f *Fake) createTaxID(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !checkParams(w, form, "type", "value", "expand[") {
		return
	}
	typ, value := form.Get("type"), form.Get("value")
	switch {
	case typ == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param: type.", "type")
		return
	case value == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param: value.", "value")
		return
	case taxFormats[typ] == nil:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid type: must be one of ad_nrt, ae_trn, ..., eu_vat, gb_vat, ... or zw_tin", "type")
		return
	}
	norm := strings.ToUpper(strings.NewReplacer(" ", "", ".", "").Replace(value))
	if typ != "us_ein" {
		norm = strings.ReplaceAll(norm, "-", "")
	}
	if !taxFormats[typ].MatchString(norm) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "tax_id_invalid",
			"Invalid value for "+typ+".", "value")
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok {
		notFound(w, "customer", id, "id")
		return
	}
	t := TaxID{ID: f.nextID("txi"), Type: typ, Value: norm}
	c.TaxIDs = append(c.TaxIDs, t)
	writeJSON(w, http.StatusOK, taxIDJSON(id, t))
}

func (f *Fake) listTaxIDs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	c, ok := f.customers[id]
	var items []map[string]any
	if ok {
		for _, t := range c.TaxIDs {
			items = append(items, taxIDJSON(id, t))
		}
	}
	f.mu.Unlock()
	if !ok {
		notFound(w, "customer", id, "id")
		return
	}
	writeList(w, r.URL.Path, items, r.URL.Query())
}
