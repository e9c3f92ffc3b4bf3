#!/usr/bin/env python3
"""Generates corpus.tsv: labelled billing-call snippets for TestCorpusRecallPrecision.

Each line is <kind>\t<value>\t<text>: kind is a redact.Kind or "none"; value is
the exact substring of text that must not survive (empty for "none"). Run from
this directory: python3 corpus_gen.py > corpus.tsv (deterministic: seeded).
"""
import random

R = random.Random(13)

DIGITS = "zero one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
FULLWIDTH = "０１２３４５６７８９"
ARABIC = "٠١٢٣٤٥٦٧٨٩"
DEVANAGARI = "०१२३४५६७८९"


def luhn_ok(d):
    t = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2:
            v *= 2
            if v > 9:
                v -= 9
        t += v
    return t % 10 == 0


def luhn_complete(p):
    for c in "0123456789":
        if luhn_ok(p + c):
            return p + c


def card(prefix, length):
    body = prefix + "".join(R.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


def not_luhn(length, prefix="4"):
    while True:
        d = prefix + "".join(R.choice("0123456789") for _ in range(length - len(prefix)))
        if not luhn_ok(d):
            return d


def groups(d, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(d[i:i + s])
        i += s
    if i < len(d):
        out.append(d[i:])
    return sep.join(out)


def spoken_digits(d, oh=False):
    return " ".join(("oh" if oh and c == "0" else DIGITS[int(c)]) for c in d)


def pair_word(p):
    a, b = int(p[0]), int(p[1])
    if a == 0:
        return "oh " + DIGITS[b]
    if a == 1:
        return TEENS[b]
    return TENS[a] + ("-" + DIGITS[b] if b else "")


def spoken_pairs(d):
    words = []
    for i in range(0, len(d) - 1, 2):
        words.append(pair_word(d[i:i + 2]))
    out = " ".join(words)
    if len(d) % 2:
        out += ", " + DIGITS[int(d[-1])]  # a lone last digit is read after a pause
    return out


def translit(s, table):
    return "".join(table[int(c)] if c.isdigit() else c for c in s)


CARD_BRANDS = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
               ("6011", 16), ("65", 16), ("36", 14), ("3528", 16), ("62", 19), ("4", 13), ("6304", 18)]


def card_forms(d):
    sizes = [4, 6, 5] if len(d) == 15 else [4, 6, 4] if len(d) == 14 else [4, 4, 4, 4, 3][: (len(d) + 3) // 4]
    return [
        d,
        groups(d, sizes, " "),
        groups(d, sizes, "-"),
        groups(d, sizes, "."),
        groups(d, sizes, "/"),
        groups(d, sizes, "_"),
        groups(d, sizes, "  "),
        groups(d, sizes, "\u00a0"),
        groups(d, sizes, "\u202f"),
        groups(d, sizes, "\u2013"),
        groups(d, sizes, " - "),
        d[:4] + "\u200b" + d[4:8] + "\u200b" + d[8:],
        translit(groups(d, sizes, " "), FULLWIDTH),
        translit(d, ARABIC),
        translit(groups(d, sizes, " "), DEVANAGARI),
        groups(d, sizes, ", "),
        groups(d, sizes, ". "),
        groups(d, sizes, " uh "),
        groups(d, sizes, " um, "),
        groups(d, [8], "\n"),
        spoken_digits(d),
        spoken_digits(d, oh=True),
        ", ".join(spoken_digits(d[i:i + 4]) for i in range(0, len(d), 4)),
        ". ".join(spoken_digits(d[i:i + 4]).capitalize() for i in range(0, len(d), 4)),
        " uh ".join(spoken_digits(d[i:i + 4]) for i in range(0, len(d), 4)),
        spoken_pairs(d),
        d[:8] + " " + spoken_digits(d[8:]),
    ]


CARD_TEMPLATES = [
    "User: sure, my card number is {v}, expiry is twelve twenty-eight.",
    "User: it's the Visa, {v}.",
    "Caller: the card on the account is {v} and I want the double charge back.",
    "User: {v} is the card you charged twice.",
    "Agent: Can you read the long number on the front? User: Yes. {v}",
    "User: okay so the new card is {v}. Please update it before the renewal.",
    "Summary: customer asked to switch autopay to card {v}.",
    "User: charge it to {v} instead, the old one expired.",
    "User: hang on, let me grab it... {v}, got that?",
]


def add(rows, kind, value, text):
    assert value == "" or value in text, (value, text)
    rows.append((kind, value, text))


def cards(rows):
    n = 0
    for prefix, length in CARD_BRANDS:
        for _ in range(2):
            d = card(prefix, length)
            forms = card_forms(d)
            for f in R.sample(forms, 6):
                t = R.choice(CARD_TEMPLATES)
                add(rows, "card", f, t.format(v=f))
                n += 1
    # A card read across two transcript turns (joined by the test with a line break).
    for _ in range(6):
        d = card("4", 16)
        add(rows, "card", d[:8], "User: the card is " + d[:8] + "\n" + "User: " + d[8:] + " and that's it")
    return n


# ---- IBAN ----------------------------------------------------------------

IBAN_FORMATS = {
    "AD": (24, "4n4n12c"), "AE": (23, "3n16n"), "AL": (28, "8n16c"), "AT": (20, "5n11n"),
    "AZ": (28, "4a20c"), "BA": (20, "3n3n8n2n"), "BE": (16, "3n7n2n"), "BG": (22, "4a4n2n8c"),
    "BH": (22, "4a14c"), "BI": (27, "5n5n11n2n"), "BR": (29, "8n5n10n1a1c"), "BY": (28, "4c4n16c"),
    "CH": (21, "5n12c"), "CR": (22, "4n14n"), "CY": (28, "3n5n16c"), "CZ": (24, "4n6n10n"),
    "DE": (22, "8n10n"), "DJ": (27, "5n5n11n2n"), "DK": (18, "4n9n1n"), "DO": (28, "4c20n"),
    "EE": (20, "2n2n11n1n"), "EG": (29, "4n4n17n"), "ES": (24, "4n4n1n1n10n"), "FI": (18, "3n11n"),
    "FK": (18, "2a12n"), "FO": (18, "4n9n1n"), "FR": (27, "5n5n11c2n"), "GB": (22, "4a6n8n"),
    "GE": (22, "2a16n"), "GI": (23, "4a15c"), "GL": (18, "4n9n1n"), "GR": (27, "3n4n16c"),
    "GT": (28, "4c20c"), "HN": (28, "4a20n"), "HR": (21, "7n10n"), "HU": (28, "3n4n1n15n1n"),
    "IE": (22, "4a6n8n"), "IL": (23, "3n3n13n"), "IQ": (23, "4a3n12n"), "IS": (26, "4n2n6n10n"),
    "IT": (27, "1a5n5n12c"), "JO": (30, "4a4n18c"), "KW": (30, "4a22c"), "KZ": (20, "3n13c"),
    "LB": (28, "4n20c"), "LC": (32, "4a24c"), "LI": (21, "5n12c"), "LT": (20, "5n11n"),
    "LU": (20, "3n13c"), "LV": (21, "4a13c"), "LY": (25, "3n3n15n"), "MC": (27, "5n5n11c2n"),
    "MD": (24, "2c18c"), "ME": (22, "3n13n2n"), "MK": (19, "3n10c2n"), "MN": (20, "4n12n"),
    "MR": (27, "5n5n11n2n"), "MT": (31, "4a5n18c"), "MU": (30, "4a2n2n12n3n3a"), "NI": (28, "4a20n"),
    "NL": (18, "4a10n"), "NO": (15, "4n6n1n"), "OM": (23, "3n16c"), "PK": (24, "4a16c"),
    "PL": (28, "8n16n"), "PS": (29, "4a21c"), "PT": (25, "4n4n11n2n"), "QA": (29, "4a21c"),
    "RO": (24, "4a16c"), "RS": (22, "3n13n2n"), "RU": (33, "9n5n15c"), "SA": (24, "2n18c"),
    "SC": (31, "4a2n2n16n3a"), "SD": (18, "2n12n"), "SE": (24, "3n16n1n"), "SI": (19, "5n8n2n"),
    "SK": (24, "4n6n10n"), "SM": (27, "1a5n5n12c"), "SO": (23, "4n3n12n"), "ST": (25, "4n4n11n2n"),
    "SV": (28, "4a20n"), "TL": (23, "3n14n2n"), "TN": (24, "2n3n13n2n"), "TR": (26, "5n1n16c"),
    "UA": (29, "6n19c"), "VA": (22, "3n15n"), "VG": (24, "4a16n"), "XK": (20, "4n10n2n"),
    "YE": (30, "4a4n18c"),
}


def bban(fmt):
    out, num = [], ""
    for ch in fmt:
        if ch.isdigit():
            num += ch
            continue
        pool = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[ch]
        out += [R.choice(pool) for _ in range(int(num))]
        num = ""
    return "".join(out)


def iban_mod(s):
    r = 0
    for ch in s[4:] + s[:4]:
        v = int(ch, 36)
        r = (r * (100 if v > 9 else 10) + v) % 97
    return r


def iban(cc):
    b = bban(IBAN_FORMATS[cc][1])
    check = 98 - iban_mod(cc + "00" + b)
    s = cc + "%02d" % check + b
    assert len(s) == IBAN_FORMATS[cc][0] and iban_mod(s) == 1
    return s


def printed(s, sep=" "):
    return sep.join(s[i:i + 4] for i in range(0, len(s), 4))


IBAN_TEMPLATES = [
    "User: please refund to my IBAN {v}, thanks.",
    "User: the refund should go to {v}.",
    "Caller: bank details are {v} at my local branch.",
    "User: IBAN is {v}",
    "Summary: caller wants the refund wired to {v}.",
    "User: ok the account, it's {v}, in my name.",
]


def ibans(rows):
    ccs = sorted(IBAN_FORMATS)
    forms = [lambda s: s, printed, lambda s: printed(s).lower(), lambda s: printed(s, "-"),
             lambda s: printed(s, "  "), lambda s: s.lower(), lambda s: s[:2].lower() + s[2:],
             lambda s: printed(s, "."), lambda s: printed(s, "\u00a0"),
             lambda s: translit(printed(s), FULLWIDTH), lambda s: s[:2] + " " + s[2:4] + " " + printed(s[4:])]
    for i, cc in enumerate(ccs):
        s = iban(cc)
        f = forms[i % len(forms)](s)
        add(rows, "iban", f, R.choice(IBAN_TEMPLATES).format(v=f))
    for i in range(30):
        cc = R.choice(["DE", "FR", "GB", "NL", "ES", "IT", "BE", "CH", "AT", "IE", "PL", "PT"])
        s = iban(cc)
        f = forms[(i * 7 + 3) % len(forms)](s)
        add(rows, "iban", f, R.choice(IBAN_TEMPLATES).format(v=f))
    # printed IBAN split across two lines
    for cc in ["DE", "FR", "GB", "NL"]:
        s = printed(iban(cc))
        add(rows, "iban", s[:14], "User: my IBAN: " + s[:14] + "\n" + s[15:] + " ok")


# ---- VAT -----------------------------------------------------------------

VATS = {
    "AT": ["U83961740"], "BE": ["0417497106", "0865432119", "0712345630"], "BG": ["835174926", "563297840"],
    "CHE": ["839617405", "271493605", "714936058"], "CY": ["36058271G", "96174052G"],
    "CZ": ["49360582", "84015632"], "DE": ["978401563", "632978401"], "DK": ["82714936", "32978401"],
    "EE": ["104015632", "101740528"], "EL": ["283961740", "493605827"], "ES": ["B2978401D", "16174052S", "B2608351I"],
    "FI": ["28396174", "52839617"], "FR": ["44732829320", "82442306023"], "HR": ["78401563297", "96174052839"],
    "HU": ["51749260", "26083517"], "IE": ["7405283I", "7492608D", "4936058CD"], "IT": ["78401563297", "51749260835"],
    "LT": ["517492618", "052839617415"], "LU": ["15098339", "26091455"], "LV": ["28396174052", "17405283961"],
    "MT": ["39617405"], "NL": ["283961740B28", "827149360B82"], "PL": ["7405283961", "4015632978"],
    "PT": ["283961740", "827149360"], "RO": ["827149360", "15632978"], "SE": ["556703748501", "202100543001"],
    "SI": ["49360582", "84015632"], "SK": ["4072839617", "1779260835"], "GB": ["980234522", "314159228"],
    "XI": ["271828149"], "NO": ["083517492", "563297840"],
}

VAT_TEMPLATES = [
    "User: please put our VAT number on the invoice, it's {v}.",
    "User: the new VAT ID is {v}, the old one is wrong on the bill.",
    "Caller: our tax registration is {v}.",
    "Summary: billing correction, apply VAT id {v} to the November invoice.",
    "User: {v} is our VAT number now.",
]


def vats(rows):
    for cc, nums in VATS.items():
        for j, n in enumerate(nums):
            if cc == "CHE":
                forms = ["CHE-%s.%s.%s" % (n[:3], n[3:6], n[6:]), "CHE%s MWST" % n, "che %s" % n]
                f = forms[j % 3]
                if f.endswith(" MWST"):
                    f = f[:-5]
            elif cc == "NO":
                f = ["NO%sMVA" % n, "NO %s MVA" % n][j % 2]
            else:
                f = [cc + n, cc + " " + n, (cc + n).lower() if cc not in ("CZ",) else cc + " " + n,
                     cc + " " + " ".join(n[i:i + 3] for i in range(0, len(n), 3))][(j + len(cc) + ord(cc[0])) % 4]
            add(rows, "vat", f, R.choice(VAT_TEMPLATES).format(v=f))
    for n in ["123456789", "20260045", "8812045501"]:
        for t in ["User: our VAT number is {v}.", "Caller: VAT registration {v}, please add it."]:
            add(rows, "vat", n, t.format(v=n))


# ---- US tax ids ------------------------------------------------------------

def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666:
            return "%03d%02d%04d" % (a, R.randint(1, 99), R.randint(1, 9999))


def itin():
    g = R.choice(list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
    return "9%02d%02d%04d" % (R.randint(0, 99), g, R.randint(0, 9999))


EIN_PREFIXES = [p for p in range(1, 100) if p not in (7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97)]


def ein():
    return "%02d%07d" % (R.choice(EIN_PREFIXES), R.randint(0, 9999999))


def taxids(rows):
    ssn_t = [
        ("ssn", "{d3}-{d2}-{d4}", "User: it's {v}."),
        ("ssn", "{d3}.{d2}.{d4}", "User: social is {v}"),
        ("ssn", "{d3} {d2} {d4}", "User: my SSN is {v}."),
        ("ssn", "{d3} {d2} {d4}", "User: {v} is my social security number."),
        ("ssn", "{d3}{d2}{d4}", "User: ssn {v}"),
        ("ssn", "{d3}{d2}{d4}", "Agent: I'll need your social security number to verify, take your time. User: okay, found it, {v}"),
        ("ssn", "{s3} dash {s2} dash {s4}", "User: it's {v}."),
        ("ssn", "{s3} {s2} {s4}", "User: my social security number is {v}."),
        ("ssn", "{d3}\u2013{d2}\u2013{d4}", "User: SSN {v}"),
        ("ssn", "{f3}-{f2}-{f4}", "User: {v}"),
        ("ssn", "{d3} - {d2} - {d4}", "User: the social is {v}, for the tax form"),
        ("ssn", "{d3}-{d2}-{d4}", "Summary: caller read SSN {v} for identity check."),
    ]
    for i in range(48):
        kind, form, t = ssn_t[i % len(ssn_t)]
        d = ssn()
        v = fill(form, d, [3, 2, 4])
        add(rows, kind, v, t.format(v=v))
    itin_t = [("{d3}-{d2}-{d4}", "User: my ITIN is {v}."), ("{d3}{d2}{d4}", "User: itin {v}"),
              ("{d3} {d2} {d4}", "User: the individual taxpayer number {v}"), ("{d3}.{d2}.{d4}", "User: {v} that's my ITIN")]
    for i in range(16):
        form, t = itin_t[i % 4]
        v = fill(form, itin(), [3, 2, 4])
        add(rows, "itin", v, t.format(v=v))
    ein_t = [("{d2}-{d7}", "User: our EIN is {v}."), ("{d2}{d7}", "User: employer identification number {v}"),
             ("{d2} {d7}", "User: the company tax id is {v}"), ("{d2}.{d7}", "User: EIN {v}"),
             ("{d2}-{d7}", "Summary: W-9 resend, company EIN {v}."), ("{d2}{d7}", "User: {v} is our EIN")]
    for i in range(24):
        form, t = ein_t[i % len(ein_t)]
        v = fill(form, ein(), [2, 7])
        add(rows, "ein", v, t.format(v=v))


def fill(form, d, sizes):
    parts, i = [], 0
    for s in sizes:
        parts.append(d[i:i + s])
        i += s
    m = {}
    for k, p in enumerate(parts):
        m["d%d" % len(p)] = p
        m["s%d" % len(p)] = spoken_digits(p)
        m["f%d" % len(p)] = translit(p, FULLWIDTH)
    return form.format(**m)


# ---- CVV, routing, bank account -------------------------------------------

def aba():
    while True:
        p = R.choice(list(range(1, 13)) + list(range(21, 33)) + list(range(61, 73)))
        d = "%02d" % p + "".join(R.choice("0123456789") for _ in range(6))
        for c in "0123456789":
            x = d + c
            s = sum(int(x[k]) * (3, 7, 1)[k % 3] for k in range(9))
            if s % 10 == 0:
                return x


def bankish(rows):
    cvv_t = ["User: the CVV is {v}.", "User: security code {v}", "User: cvc {v}, expiry oh four twenty-nine",
             "User: and the three digit code on the back is {v}.", "User: CVV2 is {v}"]
    for i in range(20):
        v = "%03d" % R.randint(0, 999) if i % 4 else "%04d" % R.randint(0, 9999)
        if i % 5 == 3:
            v = spoken_digits(v)
        add(rows, "cvv", v, cvv_t[i % len(cvv_t)].format(v=v))
    rt_t = ["User: routing number {v}", "User: the ABA routing is {v}.", "User: it's for my checking, routing {v}",
            "User: {v} is the routing number of my bank", "User: routing {v}, account to follow"]
    for i in range(20):
        v = aba()
        if i % 6 == 5:
            v = v[:3] + " " + v[3:6] + " " + v[6:]
        add(rows, "routing", v, rt_t[i % len(rt_t)].format(v=v))
    acct_t = ["User: my bank account number is {v}.", "User: checking account {v}", "User: savings account number {v} at Chase",
              "User: account number {v}, routing follows, it's my bank", "User: refund to bank account {v}",
              "User: the account number at my credit union is {v}", "User: acct no {v} for the direct debit"]
    for i in range(28):
        v = "".join(R.choice("0123456789") for _ in range(R.randint(8, 12)))
        if i % 7 == 6:
            v = v[:4] + " " + v[4:]
        add(rows, "bank_account", v, acct_t[i % len(acct_t)].format(v=v))


# ---- negatives --------------------------------------------------------------

def negatives(rows):
    def none(t):
        add(rows, "none", "", t)

    for _ in range(30):
        n = R.randint(2026000000, 2026999999)
        none(R.choice(["User: VAT invoice {n} shows the wrong total.", "User: it's about invoice {n}.",
                       "Agent: invoice number {n}, correct?", "User: the invoice {n} was charged twice"]).format(n=n))
    for _ in range(20):
        none("User: invoice INV-%d-%06d for USD %d.%02d" % (R.randint(2024, 2026), R.randint(1, 999999), R.randint(10, 9999), R.randint(0, 99)))
    for _ in range(20):
        none("User: customer account number %d" % R.randint(10000000, 99999999))
    for _ in range(10):
        none("User: my account number with you is %d, for the billing portal" % R.randint(1000000, 99999999))
    for _ in range(10):
        none("Agent: your customer number is %d." % R.randint(100000, 99999999))
    for _ in range(20):
        none(R.choice(["User: ticket {n}", "Agent: I opened ticket {n} for you.", "User: case number {n} from last week",
                       "User: the receipt number is {n}", "User: confirmation {n}"]).format(n=R.randint(100000000, 999999999)))
    for _ in range(12):
        none("User: invoice number %02d-%07d" % (R.choice(EIN_PREFIXES), R.randint(0, 9999999)))
    for _ in range(8):
        none("User: receipt %s is the one" % fill("{d3}-{d2}-{d4}", ssn(), [3, 2, 4]))
    for _ in range(6):
        none("User: tin %d is the tin can sku" % R.randint(100000000, 999999999))
    for _ in range(24):
        d = not_luhn(16, R.choice(["4", "5", "1", "9"]))
        none(R.choice(["User: order number {d}", "User: order {g} shipped?", "User: my order {d} never arrived",
                       "User: reference {g}"]).format(d=d, g=groups(d, [4, 4, 4, 4], " ")))
    for _ in range(16):
        t = "1Z" + "".join(R.choice("0123456789ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(16))
        none("User: UPS tracking %s says delivered" % t)
    for _ in range(10):
        none("User: USPS tracking %s" % "".join(R.choice("0123456789") for _ in range(22)))
    for _ in range(10):
        none("User: FedEx tracking number %s" % "".join(R.choice("0123456789") for _ in range(12)))
    phones = lambda: R.choice([
        "+1 {a} {b} {c}", "({a}) {b}-{c}", "{a}.{b}.{c}", "{a}-{b}-{c}", "+1-{a}-{b}-{c}", "1 {a} {b} {c}"]).format(
        a=R.randint(201, 989), b=R.randint(200, 999), c="%04d" % R.randint(0, 9999))
    for _ in range(30):
        none(R.choice(["User: call me back on {p}.", "User: my number is {p}", "Agent: is {p} still the best number?",
                       "User: {p} or my office line"]).format(p=phones()))
    for _ in range(8):
        none("User: call me on +44 20 %04d %04d" % (R.randint(0, 9999), R.randint(0, 9999)))
    for _ in range(8):
        none("User: my number is four one five, five five five, oh one %s" % spoken_digits("%02d" % R.randint(0, 99)))
    for _ in range(20):
        y, m, d = R.randint(2024, 2027), R.randint(1, 12), R.randint(1, 28)
        none(R.choice(["User: it was charged on {y}-{m:02d}-{d:02d}.", "User: on {m}/{d}/{y} and again on {m2}/{d}/{y}",
                       "User: dated {d:02d}.{m:02d}.{y}", "Agent: the renewal is {y}-{m:02d}-{d:02d}T15:02:11Z"]).format(
            y=y, m=m, d=d, m2=m % 12 + 1))
    for _ in range(20):
        none(R.choice(["User: you charged me ${a:,}.{c:02d} twice", "User: the total was {a}.{c:02d} euros",
                       "User: refund {a} dollars please", "User: it's {a:,}.{c:02d} USD on the bill"]).format(
            a=R.randint(10, 99999), c=R.randint(0, 99)))
    for _ in range(12):
        none("User: the refund was two hundred forty-nine dollars and %s cents" % TENS[R.randint(2, 9)])
    for _ in range(16):
        u = "%08x-%04x-%04x-%04x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(16), R.getrandbits(16), R.getrandbits(48))
        none(R.choice(["request id {u}", "User: the portal shows error {u}", "call {u} ended"]).format(u=u))
    alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for p in ["ch_", "pi_", "in_", "cus_", "sub_", "re_", "txn_", "pm_", "py_", "dp_"]:
        for _ in range(3):
            none("Agent: I see %s%s in Stripe." % (p, "".join(R.choice(alnum) for _ in range(24))))
    for _ in range(12):
        none("User: the card ending %04d was charged" % R.randint(0, 9999))
    for _ in range(8):
        none("User: it shows **** **** **** %04d on the statement" % R.randint(0, 9999))
    for _ in range(10):
        d = card("4", 16)
        bad = d[:-1] + str((int(d[-1]) + 1) % 10)
        none("User: order %s again" % bad)
    for _ in range(10):
        s = iban(R.choice(["DE", "FR", "GB", "NL"]))
        bad = s[:2] + "%02d" % ((int(s[2:4]) + 1) % 97 or 2) + s[4:]
        none("User: reference %s from the letter" % printed(bad))
    for _ in range(8):
        none("User: the number is %s" % fill("{d3}-{d2}-{d4}", "000" + "%06d" % R.randint(1, 999999), [3, 2, 4]))
    for _ in range(6):
        none("User: serial 666-%02d-%04d on the device" % (R.randint(1, 99), R.randint(1, 9999)))
    for cc, nums in [("DE", "978401564"), ("FR", "44732829321"), ("IT", "78401563298"), ("PL", "7405283962"), ("NL", "283961741B28"), ("BE", "0417497107")]:
        none("User: the reference on the letter is %s%s, is that a VAT?" % (cc, nums))
    for _ in range(10):
        none("User: zip %05d-%04d" % (R.randint(10000, 99999), R.randint(0, 9999)))
    for _ in range(10):
        none("Agent: the call started at %02d:%02d and lasted %d minutes" % (R.randint(0, 23), R.randint(0, 59), R.randint(1, 59)))
    for _ in range(8):
        none("User: upgraded to plan v%d.%d.%d, %d%% discount" % (R.randint(1, 9), R.randint(0, 20), R.randint(0, 20), R.randint(5, 50)))
    for _ in range(10):
        none("User: the cvv field was empty and the security code box wouldn't load")
    for _ in range(8):
        none("User: I have %d licences and %d seats, quantity %d" % (R.randint(2, 500), R.randint(2, 500), R.randint(1, 99)))
    for _ in range(6):
        none("User: PO number %d for the order" % R.randint(10000000, 99999999))
    for _ in range(6):
        none("User: my policy number is %d" % R.randint(100000000, 999999999))


def main():
    rows = []
    cards(rows)
    ibans(rows)
    vats(rows)
    taxids(rows)
    bankish(rows)
    negatives(rows)
    print("# Generated by corpus_gen.py; <kind>\\t<value that must not survive>\\t<text>.")
    print("# Text escapes: \\n is a line break (a turn boundary), \\t a tab.")
    for kind, value, text in rows:
        esc = lambda s: s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        print("%s\t%s\t%s" % (kind, esc(value), esc(text)))


main()
