#!/usr/bin/env python3
"""Generates heldout.tsv: a second labelled set, written apart from corpus.tsv.

It was written without looking at corpus_gen.py's templates or the rules and
measured before any rule was changed for it (see TestHeldOutRecallPrecision):
other phrasings (chat and email as well as calls), other countries' IBANs and
VAT numbers, speech-to-text artefacts, and business ids placed next to
sensitive ones. Same format as corpus.tsv. Run from this directory:
python3 heldout_gen.py > heldout.tsv (deterministic: seeded).
"""
import random

R = random.Random(20261206)
WORDS = "zero one two three four five six seven eight nine".split()
OH = ["oh" if R.random() < 0.5 else "zero"]


def luhn_sum(d):
    t = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2:
            v = v * 2 - 9 if v > 4 else v * 2
        t += v
    return t


def card(prefix, n):
    body = prefix + "".join(R.choice("0123456789") for _ in range(n - len(prefix) - 1))
    for c in "0123456789":
        if luhn_sum(body + c) % 10 == 0:
            return body + c


def not_card(n):
    while True:
        d = "".join(R.choice("0123456789") for _ in range(n))
        if luhn_sum(d) % 10 and d[0] != "0":
            return d


def spoken(d, oh=True):
    return " ".join(("oh" if oh and c == "0" else WORDS[int(c)]) for c in d)


# --- IBAN -------------------------------------------------------------------
# country: BBAN pattern (n digit, a upper letter, c alphanumeric), as in the
# SWIFT registry; chosen from countries across the registry, not only the EU.
IBAN = {
    "NO": "11n", "BE": "12n", "DK": "14n", "FI": "14n", "NL": "4a10n", "AT": "16n",
    "EE": "16n", "LT": "16n", "LU": "3n13c", "HR": "17n", "LV": "4a13c", "CH": "5n12c",
    "CZ": "20n", "SK": "20n", "ES": "20n", "SE": "20n", "RO": "4a16c", "PT": "21n",
    "IS": "22n", "TR": "5n1n16c", "FR": "10n11c2n", "IT": "1a10n12c", "MT": "4a5n18c",
    "PL": "24n", "HU": "24n", "SA": "2n18c", "AE": "3n16n", "QA": "4a21c", "BR": "23n1a1c",
    "KW": "4a22c", "UA": "6n19c", "EG": "25n", "GE": "2a16n", "IL": "19n", "JO": "4a4n18c",
    "MU": "4a19n3a", "SI": "15n", "IE": "4a14n", "GR": "7n16c", "CY": "8n16c", "BG": "4a6n8c",
    "DE": "18n", "GB": "4a14n", "AZ": "4a20c", "KZ": "3n13c", "LC": "4a24c", "SC": "4a20n3a",
}


def bban(spec):
    out, num = "", ""
    for ch in spec:
        if ch.isdigit():
            num += ch
            continue
        pool = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[ch]
        out += "".join(R.choice(pool) for _ in range(int(num)))
        num = ""
    return out


def iban(cc):
    b = bban(IBAN[cc])
    s = b + cc + "00"
    n = int("".join(str(int(c, 36)) for c in s))
    return cc + "%02d" % (98 - n % 97) + b


def bad_iban(cc):
    v = iban(cc)
    ck = (int(v[2:4]) + R.randint(1, 9)) % 97 + 2
    return v[:2] + "%02d" % ck + v[4:]


def grouped(v, sep=" "):
    return sep.join(v[i:i + 4] for i in range(0, len(v), 4))


# --- VAT with check digits --------------------------------------------------
def vat_de():
    while True:
        d = str(R.randint(1, 9)) + "".join(R.choice("0123456789") for _ in range(7))
        p = 10
        for c in d:
            s = (int(c) + p) % 10 or 10
            p = (2 * s) % 11
        c = (11 - p) % 10
        return "DE" + d + str(c)


def vat_fr():
    siren = card("", 9)  # SIRENs pass Luhn
    return "FR" + "%02d" % ((12 + 3 * (int(siren) % 97)) % 97) + siren


def vat_it():
    d = "".join(R.choice("0123456789") for _ in range(7)) + "%03d" % R.randint(1, 100)
    for c in "0123456789":
        if luhn_sum(d + c) % 10 == 0:
            return "IT" + d + c


def vat_nl():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(8))
        s = sum(int(c) * w for c, w in zip(d, range(9, 1, -1))) % 11
        if s < 10:
            return "NL" + d + str(s) + "B0" + str(R.randint(1, 9))


def vat_be():
    d = "0" + str(R.randint(2, 9)) + "".join(R.choice("0123456789") for _ in range(6))
    return "BE" + d + "%02d" % (97 - int(d) % 97)


def vat_at():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(7))
        s = 0
        for i, c in enumerate(d):
            v = int(c)
            if i % 2:
                v = v // 5 + (v * 2) % 10
            s += v
        return "ATU" + d + str((10 - (s + 4) % 10) % 10)


def vat_dk():
    while True:
        d = str(R.randint(1, 9)) + "".join(R.choice("0123456789") for _ in range(7))
        if sum(int(c) * w for c, w in zip(d, [2, 7, 6, 5, 4, 3, 2, 1])) % 11 == 0:
            return "DK" + d


def vat_fi():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(7))
        r = sum(int(c) * w for c, w in zip(d, [7, 9, 10, 5, 8, 4, 2])) % 11
        if r != 1:
            return "FI" + d + str((11 - r) % 11)


def vat_pl():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(9))
        r = sum(int(c) * w for c, w in zip(d, [6, 5, 7, 2, 3, 4, 5, 6, 7])) % 11
        if r < 10:
            return "PL" + d + str(r)


def vat_se():
    return "SE" + card(str(R.randint(1, 9)), 10) + "01"


def vat_pt():
    while True:
        d = str(R.choice([1, 2, 5])) + "".join(R.choice("0123456789") for _ in range(7))
        r = 11 - sum(int(c) * w for c, w in zip(d, range(9, 1, -1))) % 11
        if r < 10:
            return "PT" + d + str(r)


def vat_gb():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(7))
        s = sum(int(c) * w for c, w in zip(d, range(8, 1, -1)))
        ck = (-s) % 97
        if ck < 100:
            return "GB" + d + "%02d" % ck


def vat_no():
    while True:
        d = str(R.choice([8, 9])) + "".join(R.choice("0123456789") for _ in range(7))
        r = 11 - sum(int(c) * w for c, w in zip(d, [3, 2, 7, 6, 5, 4, 3, 2])) % 11
        if r == 11:
            r = 0
        if r < 10:
            return "NO" + d + str(r) + "MVA"


def vat_ch():
    while True:
        d = "".join(R.choice("0123456789") for _ in range(8))
        r = 11 - sum(int(c) * w for c, w in zip(d, [5, 4, 3, 2, 7, 6, 5, 4])) % 11
        if r == 11:
            r = 0
        if r < 10:
            return "CHE-" + d[:3] + "." + d[3:6] + "." + d[6:] + str(r) + " MWST"


def vat_ie():
    d = "".join(R.choice("0123456789") for _ in range(7))
    r = sum(int(c) * w for c, w in zip(d, range(8, 1, -1))) % 23
    return "IE" + d + "WABCDEFGHIJKLMNOPQRSTUV"[r]


def vat_lu():
    d = "".join(R.choice("0123456789") for _ in range(6))
    return "LU" + d + "%02d" % (int(d) % 89)


def vat_si():
    while True:
        d = str(R.randint(1, 9)) + "".join(R.choice("0123456789") for _ in range(6))
        r = 11 - sum(int(c) * w for c, w in zip(d, range(8, 1, -1))) % 11
        if r == 10:
            r = 0
        if r < 10:
            return "SI" + d + str(r)


def vat_el():
    d = "".join(R.choice("0123456789") for _ in range(8))
    r = sum(int(c) * 2 ** (8 - i) for i, c in enumerate(d)) % 11 % 10
    return "EL" + d + str(r)


VATS = [vat_de, vat_fr, vat_it, vat_nl, vat_be, vat_at, vat_dk, vat_fi, vat_pl, vat_se, vat_pt,
        vat_gb, vat_no, vat_ch, vat_ie, vat_lu, vat_si, vat_el]


def aba():
    while True:
        d = str(R.choice([0, 1, 2, 3])) + "".join(R.choice("0123456789") for _ in range(7))
        s = sum(int(c) * w for c, w in zip(d, [3, 7, 1, 3, 7, 1, 3, 7]))
        return d + str((10 - s % 10) % 10)


def ssn():
    a = R.choice([x for x in range(1, 899) if x != 666])
    return "%03d" % a, "%02d" % R.randint(1, 99), "%04d" % R.randint(1, 9999)


rows = []


def pos(kind, value, text):
    assert value in text, (value, text)
    rows.append((kind, value, text))


def neg(text):
    rows.append(("none", "", text))


# --- card positives (45) -----------------------------------------------------
CARD_T = [
    "Caller: yeah so the number is {v}, expiry oh nine twenty seven",
    "Customer (chat): pls use {v} for the renewal thx",
    "User: {v} — that's the Amex I put on file last week",
    "Agent: I'll read that back. {v}, is that right?\nUser: yes",
    "email from customer: \"Card: {v}\" (sent unencrypted, sorry)",
    "User: it's a Mastercard debit... {v}... ending the way I said",
    "Transcribed: customer number is er {v} for the refund",
    "Caller: right so four... sorry, the whole card: {v}",
]
for i in range(45):
    p = R.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("36", 14), ("4", 19), ("62", 16)])
    d = card(*p)
    style = i % 9
    if style == 0:
        v = d
    elif style == 1:
        v = "-".join(d[j:j + 4] for j in range(0, len(d), 4))
    elif style == 2:
        v = spoken(d)
    elif style == 3:
        v = " ".join(d[j:j + 4] for j in range(0, len(d), 4)).replace(" ", " , ", 1)
    elif style == 4:  # pairs as tens
        tens = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
        parts = []
        for j in range(0, len(d) - 1, 2):
            a, b = int(d[j]), int(d[j + 1])
            parts.append((tens[a] + ("-" + WORDS[b] if b else "")) if a >= 2 else spoken(d[j:j + 2]))
        if len(d) % 2:
            parts.append(WORDS[int(d[-1])])
        v = " ".join(parts)
    elif style == 5:  # filler between groups
        v = " um ".join(d[j:j + 4] for j in range(0, len(d), 4))
    elif style == 6:  # double
        w = spoken(d).split()
        out, k = [], 0
        while k < len(w):
            if k + 1 < len(w) and w[k] == w[k + 1]:
                out += ["double", w[k]]
                k += 2
            else:
                out.append(w[k])
                k += 1
        v = " ".join(out)
    elif style == 7:  # split over two turns, agent backchannel
        h = len(d) // 2
        v = d[:h] + "\nAgent: mhm\nUser: " + d[h:]
    else:  # dots from STT sentence splitting
        v = ". ".join(d[j:j + 4] for j in range(0, len(d), 4))
    pos("card", v, R.choice(CARD_T).format(v=v))

# --- IBAN positives (50) -----------------------------------------------------
IBAN_T = [
    "Caller: the refund should go to {v}, it's our Bankverbindung",
    "Email: Please wire the credit to IBAN {v} (account holder Müller GmbH)",
    "User: so our iban, it's {v}",
    "Customer: new bank details for the direct debit: {v}",
    "Summary: customer supplied replacement IBAN {v} for the SEPA mandate.",
    "User: uh the account is {v} in the name of the company",
]
for i, cc in enumerate(list(IBAN) + list(IBAN)[:2]):
    v = iban(cc)
    f = i % 5
    if f == 1:
        v = grouped(v)
    elif f == 2:
        v = grouped(v).lower()
    elif f == 3:
        v = grouped(v, "-")
    elif f == 4:
        v = v[:2].lower() + v[2:]
    pos("iban", v, R.choice(IBAN_T).format(v=v))

# --- VAT positives (36) ------------------------------------------------------
VAT_T = [
    "Caller: our VAT registration changed, the new one is {v}",
    "Email: Please reissue invoice INV-88213 with our USt-IdNr. {v}",
    "User: the tax number for the invoice should read {v}",
    "Summary: billing correction requested: apply VAT ID {v} to the last two invoices.",
    "Customer: numéro de TVA {v}, merci",
    "User: can you add our VAT number {v} to the account",
]
for i in range(36):
    v = VATS[i % len(VATS)]()
    if i % 4 == 1 and " " not in v and not v.startswith("CHE"):
        v = v[:2] + " " + v[2:]
    pos("vat", v, R.choice(VAT_T).format(v=v))

# --- US tax and bank (32) ----------------------------------------------------
for i in range(8):
    a, g, s = ssn()
    v = [f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}.{g}.{s}", f"{a}{g}{s}",
         f"{spoken(a)} dash {spoken(g)} dash {spoken(s)}", f"{a}/{g}/{s}", f"{a}-{g}-{s}", f"{a} {g} {s}"][i]
    t = ["Caller: for verification my social is {v}", "User: {v} is my SSN if you need it for the 1099",
         "Customer: social security number {v}", "User: my S S N, it's {v}", "Caller: last thing, my social, {v}",
         "Email: SSN: {v}", "User: {v}, that's my social security", "Caller: they asked for my social so here {v}"][i]
    pos("ssn", v, t.format(v=v))
for i in range(6):
    d = "%02d%07d" % (R.choice([12, 20, 27, 45, 46, 47, 81, 82, 83, 84, 85, 86, 87, 88, 91, 92, 93, 94, 95]), R.randint(0, 9999999))
    v = [d[:2] + "-" + d[2:], d[:2] + " " + d[2:], d, d[:2] + "-" + d[2:], d[:2] + "." + d[2:], d[:2] + "-" + d[2:]][i]
    t = ["Caller: our employer identification number is {v}", "User: the EIN on the W-9 is {v}",
         "Email: Company EIN {v} for the tax form", "User: federal tax id {v}, EIN",
         "Caller: EIN is {v}", "Customer: {v} is our EIN"][i]
    pos("ein", v, t.format(v=v))
for i in range(5):
    v = "9%02d-%d%d-%04d" % (R.randint(0, 99), R.choice([7, 8]), R.randint(0, 9), R.randint(0, 9999))
    if i == 3:
        v = v.replace("-", " ")
    t = ["User: I don't have a social, my ITIN is {v}", "Caller: ITIN {v} for the tax form",
         "Email: my individual taxpayer id number: {v}", "User: it's an ITIN, {v}", "Customer: use ITIN {v} please"][i]
    pos("itin", v, t.format(v=v))
for i in range(6):
    v = aba()
    t = ["Caller: the routing number is {v}", "User: ABA {v} and then the account number",
         "Email: Routing/ABA: {v}", "User: bank routing {v}", "Caller: for the ACH, routing {v}",
         "User: {v}, that's the routing number for my credit union"][i]
    pos("routing", v, t.format(v=v))
for i in range(7):
    v = str(R.randint(10 ** 7, 10 ** 12 - 1))
    if i == 2:
        v = spoken(v)
    t = ["Caller: my checking account number is {v} at Wells Fargo", "User: savings account {v}, same bank",
         "User: bank account number, {v}", "Email: Account no. {v} (checking) for the ACH refund",
         "Caller: deposit the refund into my bank account {v}", "User: the account at my bank is {v}",
         "Customer: checking acct {v}"][i]
    pos("bank_account", v, t.format(v=v))
for i in range(6):
    v = str(R.randint(100, 999))
    t = ["Caller: the three digits on the back are {v}", "User: CVV is {v}", "User: security code {v}",
         "Caller: CVC {v}", "User: and the code on the back, {v}", "Customer: cvv2: {v}"][i]
    pos("cvv", v, t.format(v=v))

# --- negatives (170) --------------------------------------------------------
NEG = []
for _ in range(12):
    NEG.append("User: my order number is " + not_card(16) + ", it never arrived")
for _ in range(10):
    NEG.append("Caller: tracking number 1Z" + "".join(R.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)) + " shows delivered")
for _ in range(8):
    NEG.append("Email: FedEx tracking " + not_card(12) + ", please confirm receipt")
for _ in range(8):
    NEG.append("User: the USPS tracking is 9400 " + " ".join(not_card(4) for _ in range(5)) + " 22")
for _ in range(10):
    NEG.append("Caller: invoice %s-INV-%d-%05d was charged twice" % (R.choice(["DE", "FR", "NL", "GB", "IT", "ES"]), R.choice([2025, 2026]), R.randint(1, 99999)))
for _ in range(10):
    NEG.append("User: my customer number with you is %d, can you look it up" % R.randint(10 ** 7, 10 ** 9))
for _ in range(8):
    NEG.append("Caller: call me back on +%s" % R.choice(["44 20 7946 %04d", "49 30 9018 %04d", "33 1 4020 %04d", "31 20 555 %04d", "353 1 555 %04d", "46 8 555 %04d"]) % R.randint(0, 9999))
for _ in range(8):
    NEG.append("User: I paid EUR %d.%03d,%02d on %02d.%02d.2026 and got nothing" % (R.randint(1, 99), R.randint(0, 999), R.randint(0, 99), R.randint(1, 28), R.randint(1, 12)))
for _ in range(8):
    NEG.append("Email: the PO number is 45000%05d and the cost centre 4711" % R.randint(0, 99999))
for _ in range(8):
    NEG.append("Agent: the charge id is ch_3P%s and the refund re_3P%s" % ("".join(R.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(20)), "".join(R.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(20))))
for _ in range(6):
    NEG.append("User: the reference on the transfer was %s" % "-".join("%08x" % R.getrandbits(32) for _ in range(2)) + "-4b1e-9c2a-%012x" % R.getrandbits(48))
for cc in ["DE", "FR", "NL", "ES", "IT", "BE", "AT", "PL", "SE", "CH"]:
    NEG.append("User: I typed IBAN %s wrong, it bounced, I'll send the right one by email" % bad_iban(cc))
for _ in range(8):
    NEG.append("Caller: ticket INC%010d is still open" % R.randint(0, 10 ** 10 - 1))
for _ in range(8):
    NEG.append("User: the receipt says transaction %s at 14:32, terminal 0042" % not_card(14))
for _ in range(6):
    NEG.append("Caller: my account number with Acme is %d, it's on the bill" % R.randint(10 ** 7, 10 ** 10))
for _ in range(6):
    NEG.append("User: the card ending %04d was charged %d times" % (R.randint(0, 9999), R.randint(2, 4)))
for _ in range(6):
    NEG.append("Email: Order #%d shipped from warehouse DE-%d, SKU %s-%04d" % (R.randint(10 ** 6, 10 ** 8), R.randint(1, 9), R.choice(["AT", "NL", "FR", "GB"]), R.randint(0, 9999)))
for _ in range(6):
    NEG.append("Caller: the contract number is %s%d, started %d-%02d-01" % (R.choice(["GB", "FR", "DE"]), R.randint(10 ** 8, 10 ** 9 - 1), R.randint(2019, 2026), R.randint(1, 12)))
for _ in range(5):
    NEG.append("User: I called %d times and waited %d minutes, case %d" % (R.randint(2, 9), R.randint(10, 90), R.randint(10 ** 5, 10 ** 7)))
for _ in range(5):
    NEG.append("Agent: your membership id is M-%d-%d, the plan renews on %d/%d/2027" % (R.randint(100, 999), R.randint(10 ** 5, 10 ** 6), R.randint(1, 12), R.randint(1, 28)))
NEG += [
    "User: the tin of paint arrived dented, order 77120455",
    "Caller: can you send the VAT invoice for order 2026118804 please",
    "User: the routing of my call was terrible, I was transferred four times",
    "Caller: I want to talk about my bank statement fee of 12 dollars",
    "User: account settings say plan number 3 and seats 450",
    "Email: Our VAT is included in the 1,190.00 EUR total, please itemise it",
    "User: the security code for the portal login didn't arrive",
    "Caller: my social media handle is at acme fan 2026",
    "User: forty two fifty nine was the amount, not forty two ninety",
    "Caller: I was charged nineteen ninety nine twice on the fourth",
    "User: the EIN field on your form is blank, does it matter",
    "Caller: the IBAN field on the portal is greyed out",
    "User: version 4.111.1111 of the app crashes on checkout",
    "Caller: the serial number is SN 4111 2222 3333",
    "User: reference RF18 5390 0754 7034 is on the invoice",
    "Email: Please quote reference 2026/04/118/55 in your reply",
    "User: my zip is 94107 and the house number 1200",
    "Caller: the phone on file is 415 555 0142, still correct",
    "User: two thousand four hundred and twelve dollars was the total",
    "Caller: our company registration number is 08412345 at Companies House",
]
R.shuffle(NEG)
for t in NEG:
    neg(t)

print("# Generated by heldout_gen.py (held out: measured before any rule change); <kind>\\t<value>\\t<text>.")
print("# Text escapes: \\n is a line break (a turn boundary), \\t a tab.")
esc = lambda s: s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
for k, v, t in rows:
    print(f"{k}\t{esc(v)}\t{esc(t)}")
